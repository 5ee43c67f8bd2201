#include <lane/lane.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  const char *db = argc > 1 ? argv[1] : "lanes.db";
  lane_registry_t *reg;
  lane_registry_create(NULL, &reg);
  lane_t *llm;
  lane_registry_get_or_create(reg, "llm", &llm);

  lane_sampler_options_t so = LANE_SAMPLER_OPTIONS_INIT;
  so.sqlite_path = db;                          /* every 30 s, one row per lane; kept 7 days */
  lane_sampler_t *sampler;
  if (lane_sampler_create(reg, &so, &sampler) != LANE_OK) return fprintf(stderr, "%s\n", lane_last_error()), 1;
  lane_sampler_start(sampler);
  lane_sampler_sample_once(sampler);            /* one more right now */

  lane_sample_t rows[64];
  rows[0].struct_size = sizeof rows[0];
  size_t total;
  if (lane_sqlite_query(db, "llm", 0, INT64_MAX, rows, 64, &total) != LANE_OK) return fprintf(stderr, "%s\n", lane_last_error()), 1;
  for (size_t i = 0; i < total && i < 64; i++)
    printf("llm at %lld: %u running, %u queued\n", (long long)rows[i].sampled_at_ns, rows[i].running, rows[i].queued);
  lane_sampler_destroy(sampler);                /* before its registry */
  lane_registry_destroy(reg);
  return 0;
}
