// Windows' counterpart of `-z nodelete`: the process-wide worker pool's
// threads outlive any one lane and any one host's use of the library, so a
// FreeLibrary must never unmap the code they run. When liblane-0.dll is
// loaded, its module is pinned: every later FreeLibrary is a no-op and the
// DLL stays until the process ends.
#include <windows.h>

namespace {

const bool kPinned = [] {
  HMODULE self = nullptr;
  // Any address inside this module names it.
  return GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_PIN | GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                            reinterpret_cast<LPCWSTR>(&kPinned), &self) != 0;
}();

}  // namespace
