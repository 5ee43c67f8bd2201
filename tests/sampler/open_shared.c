/* One process of the shared-history test: creates a sampler on the SQLite
 * file named by argv[1] (which several processes create at the same moment),
 * writes one sample, and exits 0, or 1 with lane_last_error() on stderr. */
#include <stdio.h>

#include "lane/lane.h"

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  lane_registry_t *reg = NULL;
  lane_t *lane = NULL;
  lane_sampler_t *s = NULL;
  lane_sampler_options_t o = LANE_SAMPLER_OPTIONS_INIT;
  o.sqlite_path = argv[1];
  if (lane_registry_create(NULL, &reg) != LANE_OK || lane_registry_get_or_create(reg, "shared", &lane) != LANE_OK ||
      lane_sampler_create(reg, &o, &s) != LANE_OK || lane_sampler_sample_once(s) != LANE_OK) {
    fprintf(stderr, "open_shared: %s\n", lane_last_error());
    lane_registry_destroy(reg);
    return 1;
  }
  lane_sampler_destroy(s);
  lane_registry_destroy(reg);
  return 0;
}
