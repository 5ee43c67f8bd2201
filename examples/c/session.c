/* A chat session in COLLECT mode: messages that arrive while the model is
 * busy are merged into the next run, which answers them all at once. */
#include <lane/lane.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int reply(lane_ctx_t *ctx, void *ud) {
  (void)ud;
  printf("one run for %u message(s):", lane_ctx_batch_count(ctx));
  for (uint32_t i = 0; i < lane_ctx_batch_count(ctx); i++) {
    const char *id;
    void *text;
    lane_ctx_batch_item(ctx, i, &id, &text);
    printf(" [%s] %s", id, (const char *)text);
  }
  printf("\n");
  struct timespec llm_call = {0, 50 * 1000 * 1000};
  nanosleep(&llm_call, NULL);
  return 0;
}

int main(void) {
  lane_t *llm;
  lane_options_t lo = LANE_OPTIONS_INIT;
  lo.max_concurrent = 4; /* the whole process: 4 LLM calls at once */
  lo.policy = LANE_POLICY_FAIR_SHARE;
  if (lane_create("llm", &lo, &llm) != LANE_OK) return 1;

  lane_session_t *chat;
  lane_session_options_t so = LANE_SESSION_OPTIONS_INIT;
  so.mode = LANE_SESSION_COLLECT;
  so.debounce_ns = 20 * 1000 * 1000; /* wait for 20 ms of quiet before a run */
  if (lane_session_create(llm, "user-42", &so, &chat) != LANE_OK) return 1;

  const char *texts[] = {"hi", "are you there?", "I need help with my order", "order #1234"};
  const char *ids[] = {"m1", "m2", "m3", "m4"};
  for (int i = 0; i < 4; i++) {
    lane_job_t msg = LANE_JOB_INIT;
    msg.id = ids[i];
    msg.run = reply;
    msg.user_data = (void *)texts[i];
    if (lane_session_enqueue(chat, &msg) != LANE_OK) {
      fprintf(stderr, "enqueue: %s\n", lane_last_error());
      return 1;
    }
  }
  while (lane_session_queued(chat) + lane_session_active(chat) > 0) {
    struct timespec tick = {0, 5 * 1000 * 1000};
    nanosleep(&tick, NULL);
  }
  lane_session_destroy(chat); /* sessions first, then their lane */
  lane_destroy(llm);
  return 0;
}
