// A floor under thread stack sizes that libraries request, linked into the server binary.
//
// Debian's civetweb (the HTTP server behind prometheus-cpp's /metrics exposer) creates its
// workers with a fixed 100 KiB stack, and glibc carves every loaded library's static TLS out
// of a caller-sized stack: OpenBLAS alone holds 60 KiB of it, RocksDB and the CUDA runtime a
// few more. What is left is too little for a civetweb worker, which then overflows its stack
// on the first scrape. Defining pthread_attr_setstacksize in the executable interposes it for
// every shared library; sizes below the floor are raised to it, larger ones pass unchanged.
#include <dlfcn.h>
#include <pthread.h>

#include <cstddef>

namespace {

constexpr size_t kMinThreadStackBytes = size_t{1} << 20;

using SetStackSize = int (*)(pthread_attr_t*, size_t);

SetStackSize RealSetStackSize() {
  static const SetStackSize real =
      reinterpret_cast<SetStackSize>(dlsym(RTLD_NEXT, "pthread_attr_setstacksize"));
  return real;
}

}  // namespace

extern "C" int pthread_attr_setstacksize(pthread_attr_t* attr, size_t size) {
  const SetStackSize real = RealSetStackSize();
  if (real == nullptr) return 0;  // keep the default stack, which is large enough
  return real(attr, size < kMinThreadStackBytes ? kMinThreadStackBytes : size);
}
