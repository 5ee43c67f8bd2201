/* The version macros, lane_version_string(), lane_abi_version() and meson's
 * project version (passed as argv[1]) agree. */
#include <stdio.h>
#include <string.h>

#include "lane/lane.h"

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  char macros[64];
  snprintf(macros, sizeof macros, "%d.%d.%d", LANE_VERSION_MAJOR, LANE_VERSION_MINOR, LANE_VERSION_PATCH);
  int failed = 0;
  if (strcmp(argv[1], LANE_VERSION_STRING) != 0) {
    fprintf(stderr, "meson project version %s, LANE_VERSION_STRING %s\n", argv[1], LANE_VERSION_STRING);
    failed = 1;
  }
  if (strcmp(macros, LANE_VERSION_STRING) != 0) {
    fprintf(stderr, "LANE_VERSION_MAJOR/MINOR/PATCH give %s, LANE_VERSION_STRING %s\n", macros, LANE_VERSION_STRING);
    failed = 1;
  }
  if (strcmp(lane_version_string(), LANE_VERSION_STRING) != 0) {
    fprintf(stderr, "lane_version_string() %s, header %s\n", lane_version_string(), LANE_VERSION_STRING);
    failed = 1;
  }
  if (lane_abi_version() != LANE_ABI_VERSION || (lane_abi_version() >> 16) != LANE_ABI_MAJOR) {
    fprintf(stderr, "lane_abi_version() %u, header %u\n", lane_abi_version(), (unsigned)LANE_ABI_VERSION);
    failed = 1;
  }
  if (!failed) printf("version %s, ABI %u.%u\n", LANE_VERSION_STRING, LANE_ABI_MAJOR, LANE_ABI_MINOR);
  return failed;
}
