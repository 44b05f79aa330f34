// Copyright 2026 The daemonkit Authors.
//
// File: tools/executable_pages.h
// -----------------------------------------------------------------------------
//
// A process that runs a lot of code once and then mostly waits (the
// daemonkit command's monitor: flag parsing, glog, the library's start-up,
// then a poll loop) keeps every page of its executable that it ever touched
// resident and counted as its own: the kernel maps up to 64 kB around each
// page fault ("fault-around"), and a statically linked C++ executable maps
// its code and read-only data in one segment that nothing else maps, so all
// of it is Private_Clean. DropExecutablePages() lets go of those pages once
// the start-up is over; the few the loop runs come back on their next use
// (minor faults from the page cache, as after the kernel's own reclaim).
//
// Example:
//
//   SayReady();
//   // Only memory is at stake: on failure the pages stay mapped.
//   daemonkit::DropExecutablePages().IgnoreError();

#ifndef DAEMONKIT_TOOLS_EXECUTABLE_PAGES_H_
#define DAEMONKIT_TOOLS_EXECUTABLE_PAGES_H_

#include "absl/status/status.h"

namespace daemonkit {

// DropExecutablePages()
//
// madvise(MADV_DONTNEED) over every whole page of the calling process's own
// executable's loadable segments that are not writable (code, read-only
// data, headers): their page-table entries go, the pages stay in the page
// cache. Safe because those mappings are private, file-backed and never
// written, so a later access reads the same bytes back from the file;
// refused (kFailedPrecondition) for an executable with text relocations
// (DT_TEXTREL), whose code pages are modified copies. Writable segments
// (data, relocated read-only data, bss), the heap, the stacks, TLS and the
// shared libraries are left alone. Errors: kInternal when no executable is
// found, or madvise's errno (EINVAL for memory locked by mlockall).
absl::Status DropExecutablePages();

}  // namespace daemonkit

#endif  // DAEMONKIT_TOOLS_EXECUTABLE_PAGES_H_
