/* Copyright 2026 The daemonkit Authors.
 *
 * The four libunwind calls that Debian's libglog.a makes to print a stack
 * trace (LOG(FATAL), CHECK failures), answered by the unwinder already in
 * every C++ binary (libgcc's _Unwind_Backtrace).
 *
 * Why: Debian's libunwind archive is not position independent, so glog's
 * pkg-config line made every binary load libunwind.so.8 and, through it,
 * liblzma.so.5 at every start: two more objects to open, map and relocate
 * (about 100,000 instructions and 12 page faults per start, see
 * docs/benchmarks.md) for a stack trace that is printed at most once, when
 * the program dies. glog itself, and what it prints, are unchanged.
 *
 * The cursor is libunwind's opaque unw_cursor_t (127 words): init_local
 * walks the whole stack once and stores the return addresses; get_reg reads
 * the current one, step moves to the next. Only UNW_REG_IP is asked for.
 */
#include <stdint.h>
#include <unwind.h>

#if !defined(__x86_64__)
/* repositories.bzl uses this file on x86_64 only; elsewhere glog links
 * libunwind itself. */
#error "glog_unwind.c is for x86_64"
#endif
#define DAEMONKIT_UNW(name) _Ux86_64_##name
#define DAEMONKIT_UNW_LOCAL(name) _ULx86_64_##name
#define DAEMONKIT_UNW_CURSOR_WORDS 127 /* UNW_TDEP_CURSOR_LEN */
#define DAEMONKIT_UNW_REG_IP 16        /* UNW_REG_IP == UNW_X86_64_RIP */

enum { kMaxFrames = DAEMONKIT_UNW_CURSOR_WORDS - 2 };

struct Frames {
  uint64_t count;
  uint64_t next;
  uint64_t ip[kMaxFrames];
};

_Static_assert(sizeof(struct Frames) <= DAEMONKIT_UNW_CURSOR_WORDS * 8,
               "the frames must fit in libunwind's cursor");

static _Unwind_Reason_Code Collect(struct _Unwind_Context* context,
                                   void* arg) {
  struct Frames* frames = (struct Frames*)arg;
  const uint64_t ip = (uint64_t)_Unwind_GetIP(context);
  /* libunwind ends at _start; libgcc reports one more frame, without an IP. */
  if (ip == 0 || frames->count >= kMaxFrames) return _URC_END_OF_STACK;
  frames->ip[frames->count++] = ip;
  return _URC_NO_REASON;
}

/* unw_getcontext: the walk starts in init_local, nothing to save here. */
int DAEMONKIT_UNW(getcontext)(void* context) {
  (void)context;
  return 0;
}

/* unw_init_local. Its own frame is skipped, so the first address is in its
 * caller, as libunwind's first frame is where unw_getcontext returned. */
__attribute__((noinline)) int DAEMONKIT_UNW_LOCAL(init_local)(void* cursor,
                                                               void* context) {
  (void)context;
  struct Frames* frames = (struct Frames*)cursor;
  frames->count = 0;
  _Unwind_Backtrace(Collect, frames);
  frames->next = 1;
  /* Not a tail call: this frame must be on the stack during the walk. */
  __asm__ volatile("" ::: "memory");
  return frames->count > 1 ? 0 : -1;
}

/* unw_get_reg: only the instruction pointer is supported. */
int DAEMONKIT_UNW_LOCAL(get_reg)(void* cursor, int reg, uint64_t* value) {
  const struct Frames* frames = (const struct Frames*)cursor;
  if (reg != DAEMONKIT_UNW_REG_IP || frames->next >= frames->count) return -1;
  *value = frames->ip[frames->next];
  return 0;
}

/* unw_step: > 0 while there is a frame, 0 at the end. */
int DAEMONKIT_UNW_LOCAL(step)(void* cursor) {
  struct Frames* frames = (struct Frames*)cursor;
  if (frames->next + 1 >= frames->count) return 0;
  ++frames->next;
  return 1;
}
