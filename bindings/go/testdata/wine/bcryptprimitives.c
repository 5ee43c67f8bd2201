// A stand-in for Windows 10's bcryptprimitives.dll, for wine releases that
// lack it (wine 8): the Go runtime (since Go 1.22) loads it from system32 at
// start-up for ProcessPrng and stops if it is missing. This one fills the
// buffer from BCryptGenRandom, which those wine releases have.
// bindings/go/test-windows.sh builds it and puts it into its own wine
// prefix only when the prefix has no bcryptprimitives.dll.
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;  // BCryptGenRandom takes a ULONG
    if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}
