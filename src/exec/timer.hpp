// One thread for every session's debounce deadline. A session whose lane
// reads the real clock is woken at its deadline; one with an injected clock
// is looked at every few milliseconds (its time may jump at any moment) and
// decides itself whether the deadline has passed.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

struct lane_session;

namespace lane::session {

class Timer {
 public:
  static Timer &instance();
  // (Re)arms s for at_ns on the real clock, or for a look soon when the
  // session's clock is injected.
  void arm(lane_session *s, std::int64_t at_ns, bool injected_clock);
  // Removes s and waits until the timer thread is not inside it.
  void disarm(lane_session *s);

 private:
  void main();

  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::int64_t, lane_session *> due_;
  std::unordered_map<lane_session *, std::multimap<std::int64_t, lane_session *>::iterator> where_;
  lane_session *firing_ = nullptr;
  bool started_ = false;
};

}  // namespace lane::session
