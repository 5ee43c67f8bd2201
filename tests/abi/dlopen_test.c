/* A plugin host: dlopen liblane, dlsym one name (lane_get_api) and run a
 * small lane end to end through the table only. Also: an unknown major ABI
 * version gives NULL and a message.
 *
 * usage: dlopen_test PATH_TO_LIBLANE_SO */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "lane/lane.h"

typedef const lane_api_t *(*get_api_fn)(uint32_t);

static int32_t job_body(lane_ctx_t *ctx, void *user_data) {
  (void)ctx;
  *(int *)user_data += 1;
  return 7;
}

#define EXPECT(cond)                                          \
  do {                                                        \
    if (!(cond)) {                                            \
      fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                               \
    }                                                         \
  } while (0)

int main(int argc, char **argv) {
  EXPECT(argc == 2);
  void *handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  get_api_fn get_api;
  /* POSIX's way to turn dlsym's object pointer into a function pointer. */
  *(void **)(&get_api) = dlsym(handle, "lane_get_api");
  EXPECT(get_api != NULL);
  /* Internal C++ symbols are hidden. */
  EXPECT(dlsym(handle, "_ZN4lane4exec11real_now_nsEv") == NULL);

  const lane_api_t *api = get_api(LANE_ABI_VERSION);
  EXPECT(api != NULL);
  EXPECT(api->abi_version_fn() == LANE_ABI_VERSION);
  EXPECT(strcmp(api->version_string(), LANE_VERSION_STRING) == 0);

  /* A future major, and a newer minor than this library has, are refused. */
  EXPECT(get_api(LANE_ABI_VERSION + (1u << 16)) == NULL);
  EXPECT(strstr(api->last_error(), "ABI version") != NULL);
  EXPECT(get_api(LANE_ABI_VERSION + 1u) == NULL);

  lane_t *lane = NULL;
  lane_options_t opts = LANE_OPTIONS_INIT;
  opts.max_concurrent = 1;
  EXPECT(api->create("plugin", &opts, &lane) == LANE_OK);
  int ran = 0;
  lane_job_t job = LANE_JOB_INIT;
  job.id = "through-the-table";
  job.run = job_body;
  job.user_data = &ran;
  lane_outcome_t out;
  memset(&out, 0, sizeof out);
  out.struct_size = sizeof out;
  EXPECT(api->submit_wait(lane, &job, -1, &out) == LANE_ERR_JOB_FAILED);
  EXPECT(out.job_code == 7 && ran == 1);
  EXPECT(strcmp(out.job_id, "through-the-table") == 0);

  lane_stats_t st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  EXPECT(api->stats(lane, &st) == LANE_OK);
  EXPECT(st.submitted == 1 && st.failed == 1);
  EXPECT(strcmp(api->name(lane), "plugin") == 0);
  api->destroy(lane);
  dlclose(handle);
  printf("ran a lane through lane_get_api after one dlsym\n");
  return 0;
}
