#define _POSIX_C_SOURCE 200809L /* setenv */
#include <lane/lane.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef _WIN32 /* no setenv there: _putenv_s sets a variable */
#define setenv(name, value, overwrite) _putenv_s(name, value)
#endif

static int32_t work(lane_ctx_t *ctx, void *ud) { (void)ctx; (void)ud; return 0; }

int main(void) {
  setenv("LANE_LLM_MAX_CONCURRENT", "4", 1);   /* or a config callback: lanes.llm.max_concurrent */
  lane_registry_t *reg;
  if (lane_registry_create(NULL, &reg) != LANE_OK) return fprintf(stderr, "%s\n", lane_last_error()), 1;
  lane_t *llm;                                  /* borrowed: the registry owns it */
  if (lane_registry_get_or_create(reg, "llm", &llm) != LANE_OK) return fprintf(stderr, "%s\n", lane_last_error()), 1;
  lane_job_t job = LANE_JOB_INIT;
  job.id = "j1"; job.run = work;
  lane_submit_wait(llm, &job, -1, NULL);

  setenv("LANE_LLM_MAX_CONCURRENT", "8", 1);
  lane_registry_reload(reg);                    /* resized in place, nothing lost */

  char text[8192];
  size_t len;
  if (lane_registry_metrics(reg, text, sizeof text, &len) != LANE_OK) return fprintf(stderr, "%s\n", lane_last_error()), 1;
  fputs(text, stdout);                          /* Prometheus text format 0.0.4 */
  lane_registry_destroy(reg);
  return 0;
}
