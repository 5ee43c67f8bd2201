//! A registry without a config closure reads the environment. Alone in its
//! own test binary: setting a variable while other threads read the
//! environment would be a data race.

use lane::Registry;

#[test]
fn lane_names_map_to_environment_variables() {
    // SAFETY: the only test of this binary; no other thread exists yet.
    unsafe { std::env::set_var("LANE_ENV_LLM_MAX_CONCURRENT", "3") };
    let reg = Registry::from_env().unwrap();
    assert_eq!(reg.get_or_create("env-llm").unwrap().stats().unwrap().max_concurrent, 3);
    assert_eq!(reg.get_or_create("env.llm").unwrap().stats().unwrap().max_concurrent, 3);
}
