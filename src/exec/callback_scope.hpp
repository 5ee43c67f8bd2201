// Which library objects this thread is inside a host callback of. A destroy
// that would wait for the callback it is called from (lane_destroy from one
// of the lane's own runs or on_done, lane_registry_destroy from its config
// callback or a sink of its sampler, ...) asks here and refuses with
// LANE_ERR_DEADLOCK instead of hanging or freeing what the caller still runs.
//
// Each scope names the object whose callback runs and the group it belongs
// to (a registry lane's registry; otherwise the object itself). Scopes nest
// (a run that calls lane_submit_wait on another lane runs that job inline).
#pragma once

namespace lane::exec {

class CallbackScope {
 public:
  CallbackScope(const void *object, const void *group) noexcept;
  ~CallbackScope();
  CallbackScope(const CallbackScope &) = delete;
  CallbackScope &operator=(const CallbackScope &) = delete;

  // Is this thread inside a callback of `object`?
  static bool inside(const void *object) noexcept;
  // ... of any object of `group`?
  static bool inside_group(const void *group) noexcept;

 private:
  bool pushed_;
};

}  // namespace lane::exec
