/* The Windows form of dlopen_test: a plugin host that loads liblane-0.dll
 * with LoadLibrary, looks up one name (lane_get_api) with GetProcAddress and
 * runs a small lane end to end through the table only, after a FreeLibrary:
 * the DLL pins itself at load (the counterpart of -z nodelete), so it stays
 * mapped and its worker threads keep their code. (Without the pin this test
 * fails at the GetModuleHandle after FreeLibrary.)
 *
 * usage: loadlibrary_test PATH_TO_LIBLANE_DLL */
#include <windows.h>

#include <stdio.h>
#include <string.h>

#include "lane/lane.h"

typedef const lane_api_t *(*get_api_fn)(uint32_t);

static int32_t job_body(lane_ctx_t *ctx, void *user_data) {
  (void)ctx;
  *(int *)user_data += 1;
  return 7;
}

#define EXPECT(cond)                                             \
  do {                                                           \
    if (!(cond)) {                                               \
      fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                  \
    }                                                            \
  } while (0)

static int run_one(const lane_api_t *api, const char *name, int *ran) {
  lane_t *lane = NULL;
  lane_options_t opts = LANE_OPTIONS_INIT;
  opts.max_concurrent = 1;
  EXPECT(api->create(name, &opts, &lane) == LANE_OK);
  lane_job_t job = LANE_JOB_INIT;
  job.id = "through-the-table";
  job.run = job_body;
  job.user_data = ran;
  lane_outcome_t out;
  memset(&out, 0, sizeof out);
  out.struct_size = sizeof out;
  EXPECT(api->submit_wait(lane, &job, -1, &out) == LANE_ERR_JOB_FAILED);
  EXPECT(out.job_code == 7);
  EXPECT(strcmp(out.job_id, "through-the-table") == 0);
  lane_stats_t st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  EXPECT(api->stats(lane, &st) == LANE_OK);
  EXPECT(st.submitted == 1 && st.failed == 1);
  EXPECT(strcmp(api->name(lane), name) == 0);
  EXPECT(api->destroy(lane) == LANE_OK);
  return 0;
}

int main(int argc, char **argv) {
  EXPECT(argc == 2);
  /* Nothing of liblane is loaded before the LoadLibrary. */
  const char *base = strrchr(argv[1], '/');
  const char *base2 = strrchr(argv[1], '\\');
  if (base2 > base) base = base2;
  base = base ? base + 1 : argv[1];
  EXPECT(GetModuleHandleA(base) == NULL);

  HMODULE dll = LoadLibraryA(argv[1]);
  if (!dll) {
    fprintf(stderr, "LoadLibrary(%s): error %lu\n", argv[1], (unsigned long)GetLastError());
    return 1;
  }
  get_api_fn get_api = (get_api_fn)(void (*)(void))GetProcAddress(dll, "lane_get_api");
  EXPECT(get_api != NULL);
  /* Internal C++ symbols are not exported. */
  EXPECT(GetProcAddress(dll, "_ZN4lane4exec11real_now_nsEv") == NULL);

  const lane_api_t *api = get_api(LANE_ABI_VERSION);
  EXPECT(api != NULL);
  EXPECT(api->abi_version_fn() == LANE_ABI_VERSION);
  EXPECT(strcmp(api->version_string(), LANE_VERSION_STRING) == 0);
  EXPECT((void (*)(void))api->port_handle == (void (*)(void))GetProcAddress(dll, "lane_port_handle"));

  /* A future major, and a newer minor than this library has, are refused. */
  EXPECT(get_api(LANE_ABI_VERSION + (1u << 16)) == NULL);
  EXPECT(strstr(api->last_error(), "ABI version") != NULL);
  EXPECT(get_api(LANE_ABI_VERSION + 1u) == NULL);

  /* A port's wake-up object is an event handle here, and no fd. */
  lane_port_t *port = NULL;
  EXPECT(api->port_create(&port) == LANE_OK);
  EXPECT(api->port_fd(port) == -1);
  HANDLE h = (HANDLE)api->port_handle(port);
  EXPECT(h != NULL);
  EXPECT(WaitForSingleObject(h, 0) == WAIT_TIMEOUT);
  EXPECT(api->port_wake(port) == LANE_OK);
  EXPECT(WaitForSingleObject(h, 0) == WAIT_OBJECT_0);
  EXPECT(api->port_destroy(port) == LANE_OK);

  /* FreeLibrary drops the only reference this process took (no library
   * thread has started yet: a running thread would hold one of its own), yet
   * the pinned DLL stays loaded, and the table works. */
  EXPECT(FreeLibrary(dll));
  EXPECT(GetModuleHandleA(base) == dll);
  int ran = 0;
  EXPECT(run_one(api, "after-freelibrary", &ran) == 0);
  EXPECT(ran == 1);
  EXPECT(run_one(api, "again", &ran) == 0);
  EXPECT(ran == 2);
  printf("ran a lane through lane_get_api after one GetProcAddress; the DLL stayed pinned after FreeLibrary\n");
  return 0;
}
