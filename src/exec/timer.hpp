// One timer thread for the whole process: every lane's deadlines (queue
// timeouts, cooldowns, preemption guards, outcome timeouts) and every
// session's debounce. A client armed on the real clock is fired at its
// deadline; one whose clock is injected is fired every few milliseconds
// (its time may jump at any moment) and decides itself whether anything is
// due. The thread starts with the first arm and is never joined.
//
// The client's fire function runs on the timer thread with no timer lock
// held, so it may take its own lock and arm again. Lock order: a client's
// lock, then the timer's (arm is called under a lane's lock); the timer
// never calls a client while holding its own.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace lane::exec {

class Timer {
 public:
  using FireFn = void (*)(void *client);

  static Timer &instance();
  // Makes room for client's one entry and starts the thread, ahead of any
  // arm (may throw std::bad_alloc or std::system_error): arm and disarm of a
  // reserved client never allocate, so a lane that has accepted a job cannot
  // fail to arm its deadline. Lanes reserve when they are made.
  void reserve(void *client);
  // Disarms a reserved client and gives its room back.
  void forget(void *client);
  // (Re)arms client for at_ns on the real clock (the one real_now_ns reads),
  // or for a look soon when its clock is injected. One deadline per client:
  // a new arm replaces the old. A client that did not reserve is given room
  // here (which may throw) and loses it when it fires or is disarmed.
  void arm(void *client, FireFn fire, std::int64_t at_ns, bool injected_clock);
  // Removes client and waits until the timer thread is not inside it (unless
  // called from that very firing, which must not wait for itself).
  void disarm(void *client);
  // Threads the timer has started (0 or 1): what the tests count.
  [[nodiscard]] int threads_started();

 private:
  struct Entry {
    void *client;
    FireFn fire;
  };
  using Due = std::multimap<std::int64_t, Entry>;
  // A client's room: its entry in due_ while armed, else the detached node
  // kept for the next arm.
  struct Slot {
    Due::iterator at{};
    Due::node_type spare;
    bool armed = false;
    bool reserved = false;
  };
  void main();
  void start_locked();
  static Due::node_type spare_node(void *client, FireFn fire);
  void unlink_locked(std::unordered_map<void *, Slot>::iterator it);

  std::mutex mu_;
  std::condition_variable cv_;
  Due due_;
  std::unordered_map<void *, Slot> where_;
  void *firing_ = nullptr;
  std::thread::id thread_id_;
  bool started_ = false;
};

}  // namespace lane::exec
