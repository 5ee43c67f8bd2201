// The Windows wake-up: a manual-reset event, signalled while set, so a host
// can wait on it with WaitForSingleObject / WaitForMultipleObjects (or
// RegisterWaitForSingleObject) next to its own handles. There is no file
// descriptor: fd() stays -1.
#include "wakeup.hpp"

#include <windows.h>

#include <system_error>

namespace lane::exec {

Wakeup::Wakeup() {
  HANDLE h = CreateEventW(nullptr, TRUE /* manual reset */, FALSE /* not signalled */, nullptr);
  if (h == nullptr) throw std::system_error(static_cast<int>(GetLastError()), std::system_category(), "CreateEvent");
  handle_ = h;
}

Wakeup::~Wakeup() {
  if (handle_ != nullptr) CloseHandle(static_cast<HANDLE>(handle_));
}

void Wakeup::set() { SetEvent(static_cast<HANDLE>(handle_)); }

void Wakeup::clear() { ResetEvent(static_cast<HANDLE>(handle_)); }

}  // namespace lane::exec
