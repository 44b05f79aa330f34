"""daemonkit_fuzzer: one fuzz target, built two ways.

    daemonkit_fuzzer(name = "pid_file_fuzzer", srcs = [...], deps = [...])

makes
  :pid_file_fuzzer_test  a cc_test in every `bazel test //...`: our own driver
                         feeds the target a fixed, bounded series of inputs
                         (seeds, then pseudo-random ones from a fixed seed),
                         so a crash on any of them fails CI reproducibly;
  :pid_file_fuzzer       the libFuzzer binary (coverage-guided, for hours if
                         you like), built with `tools/bazel build
                         --config=fuzz`; see tools/fuzz.sh.
"""

def daemonkit_fuzzer(name, srcs, deps = []):
    native.cc_test(
        name = name + "_test",
        size = "small",
        srcs = srcs,
        deps = deps + ["//fuzz:bounded_driver"],
    )
    native.cc_binary(
        name = name,
        srcs = srcs,
        deps = deps,
        linkopts = select({
            "//fuzz:libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        # Only a clang build (--config=fuzz) links libFuzzer's main().
        target_compatible_with = select({
            "//fuzz:libfuzzer": [],
            "//conditions:default": ["@platforms//:incompatible"],
        }),
        tags = ["manual"],
    )
