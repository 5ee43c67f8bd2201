// The struct-versioning rule of src/capi/struct_versions.hpp on synthetic
// structs, so that growth is exercised even before a public struct has grown:
// a struct "v2" that appended two fields to "v1".
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstring>

#include "capi/struct_versions.hpp"

namespace {
struct V1 {
  std::uint32_t struct_size;
  std::int32_t a;
  std::int64_t b;
};
struct V2 {  // the library's current view: V1 plus two appended fields
  std::uint32_t struct_size;
  std::int32_t a;
  std::int64_t b;
  std::int64_t c;
  std::int32_t d;
};
struct V3 {  // a newer host's
  V2 known;
  unsigned char future[24];
};
}  // namespace

template <>
struct lane::capi::FirstRelease<V2> {
  static constexpr std::size_t end = offsetof(V2, b) + sizeof(V2::b);
};

using lane::capi::read_struct;
using lane::capi::writable;
using lane::capi::write_struct;

TEST_CASE("an older host's smaller struct is read, with the appended fields as zero") {
  V1 old{sizeof(V1), 7, 9};
  V2 in{};
  std::memset(&in, 0x77, sizeof in);
  REQUIRE(read_struct(reinterpret_cast<const V2 *>(&old), in));
  CHECK(in.a == 7);
  CHECK(in.b == 9);
  CHECK(in.c == 0);
  CHECK(in.d == 0);
}

TEST_CASE("a newer host's larger struct is read up to what the library knows") {
  V3 h;
  std::memset(&h, 0xA5, sizeof h);
  h.known = V2{sizeof(V3), 1, 2, 3, 4};
  V2 in{};
  REQUIRE(read_struct(&h.known, in));
  CHECK(in.a == 1);
  CHECK(in.d == 4);
}

TEST_CASE("a struct_size below the first release is refused") {
  V1 old{sizeof(V1) - 1, 7, 9};
  V2 in{};
  CHECK_FALSE(read_struct(reinterpret_cast<const V2 *>(&old), in));
  CHECK_FALSE(writable(reinterpret_cast<const V2 *>(&old)));
}

TEST_CASE("writing to an older host touches nothing past its struct_size") {
  struct {
    V1 v1;
    unsigned char after[32];
  } h;
  std::memset(&h, 0x5A, sizeof h);
  h.v1.struct_size = sizeof(V1);
  REQUIRE(writable(reinterpret_cast<const V2 *>(&h.v1)));
  write_struct(reinterpret_cast<V2 *>(&h.v1), V2{0, 1, 2, 3, 4});
  CHECK(h.v1.struct_size == sizeof(V1));
  CHECK(h.v1.a == 1);
  CHECK(h.v1.b == 2);
  for (unsigned char c : h.after) CHECK(c == 0x5A);
}

TEST_CASE("writing to a newer host zeroes the fields the library does not know") {
  V3 h;
  std::memset(&h, 0xA5, sizeof h);
  h.known.struct_size = sizeof(V3);
  write_struct(&h.known, V2{0, 1, 2, 3, 4});
  CHECK(h.known.struct_size == sizeof(V3));
  CHECK(h.known.d == 4);
  for (unsigned char c : h.future) CHECK(c == 0);
}
