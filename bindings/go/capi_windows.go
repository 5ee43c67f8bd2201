package lane

// The Windows-only C calls.

/*
#include "golane.h"
*/
import "C"

import "unsafe"

// cPortHandle is the port's event HANDLE (signalled while events wait), 0
// if the port has none. The port owns it: never reset or close it.
func cPortHandle(p cPort) uintptr { return uintptr(unsafe.Pointer(C.lane_port_handle(p))) }
