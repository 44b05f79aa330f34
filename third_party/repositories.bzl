"""Offline repositories that daemonkit builds against.

Everything daemonkit needs comes from Debian packages installed by
`tools/bazel`; nothing is downloaded. Abseil, glog, gflags and GoogleTest are
exposed under their upstream canonical repository names and target labels
(`@com_google_absl//absl/flags:flag`, `@com_github_google_glog//:glog`,
`@com_google_googletest//:gtest`, ...) so that switching to upstream source
archives later touches this file only.

Usage, in a WORKSPACE (before anything else that might declare the same
names):

    load("@daemonkit//third_party:repositories.bzl", "daemonkit_dependencies")
    daemonkit_dependencies()

Every repository is declared with `maybe()`: a workspace that already has its
own Abseil, glog or GoogleTest keeps it.
"""

load("@bazel_tools//tools/build_defs/repo:utils.bzl", "maybe")

# Where Debian (x86_64 or any other multiarch triplet) keeps its libraries.
_LIBDIRS = [
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib",
]

def _find_libdir(rctx, static_name):
    for libdir in _LIBDIRS:
        if rctx.path(libdir + "/" + static_name).exists:
            return libdir
    return None

def _pkg_config_libs(rctx, modules):
    """Returns the static link order of `modules` as a list of library names."""
    pkg_config = rctx.which("pkg-config")
    if not pkg_config:
        fail("pkg-config is missing: run tools/bazel, which installs it")
    result = rctx.execute([pkg_config, "--static", "--libs-only-l"] + modules)
    if result.return_code != 0:
        fail("pkg-config %s failed: %s" % (" ".join(modules), result.stderr))
    names = [tok[2:] for tok in result.stdout.replace("\n", " ").split(" ") if tok.startswith("-l")]

    # A static link needs each archive after everything that uses it, so of
    # repeated names the last occurrence is the one that counts.
    ordered = []
    for i, name in enumerate(names):
        if name not in names[i + 1:]:
            ordered.append(name)
    return ordered

def _is_x86_64(rctx):
    return rctx.execute(["uname", "-m"]).stdout.strip() == "x86_64"

def _debian_cc_library_impl(rctx):
    for header_dir in rctx.attr.header_dirs:
        rctx.symlink("/usr/include/" + header_dir, "include/" + header_dir)

    modules = list(rctx.attr.pkg_config_modules)
    for prefix in rctx.attr.pkg_config_prefixes:
        for libdir in _LIBDIRS:
            pc_dir = rctx.path(libdir + "/pkgconfig")
            if not pc_dir.exists:
                continue
            for pc in pc_dir.readdir():
                if pc.basename.startswith(prefix) and pc.basename.endswith(".pc"):
                    modules.append(pc.basename[:-len(".pc")])

    archives = []
    linkopts = []
    for name in _pkg_config_libs(rctx, modules) if modules else []:
        static_name = "lib%s.a" % name
        libdir = _find_libdir(rctx, static_name)
        if name in rctx.attr.replaced_libs and _is_x86_64(rctx):
            # Answered by a source file of this repository (see its attr).
            continue
        if name in rctx.attr.shared_libs or not libdir:
            # System libraries (rt, atomic, pthread) and the ones whose Debian
            # archive is not position independent (libunwind) link shared.
            linkopts.append("-l" + name)
        else:
            rctx.symlink(libdir + "/" + static_name, "lib/" + static_name)
            archives.append("lib/" + static_name)

    if linkopts:
        # Bazel's toolchain links with --no-as-needed, so every library that
        # pkg-config names for a static link (libatomic for Abseil, libunwind
        # for glog) would be loaded by every binary, used or not: each costs
        # the loader an open, a few mmaps and its relocations at every start.
        # --as-needed keeps only those a binary really calls into.
        linkopts = ["-Wl,--as-needed"] + linkopts + ["-Wl,--no-as-needed"]

    for label, path in rctx.attr.extra_files.items():
        rctx.symlink(label, path)
    replacement_srcs = []
    if _is_x86_64(rctx):
        for label, path in rctx.attr.replacement_files.items():
            rctx.symlink(label, path)
            replacement_srcs.append(path)

    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.file("BUILD.bazel", rctx.read(rctx.attr.build_template).replace(
        "%{replacement_srcs}",
        repr(replacement_srcs),
    ).replace(
        "%{archives}",
        repr(archives),
    ).replace(
        "%{linkopts}",
        repr(linkopts + rctx.attr.extra_linkopts),
    ))
    for package, targets in rctx.attr.alias_packages.items():
        content = ["package(default_visibility = [\"//visibility:public\"])\n"]
        for target in targets:
            content.append('cc_library(name = "%s", deps = ["//:%s"])\n' % (target, rctx.attr.alias_to))
        rctx.file(package + "/BUILD.bazel", "\n".join(content))

debian_cc_library = repository_rule(
    implementation = _debian_cc_library_impl,
    doc = "Wraps a Debian -dev package (headers + static archives) as a Bazel repository.",
    local = True,
    attrs = {
        "header_dirs": attr.string_list(doc = "directories under /usr/include to expose"),
        "pkg_config_modules": attr.string_list(doc = "pkg-config modules whose static link line to use"),
        "pkg_config_prefixes": attr.string_list(doc = "take every pkg-config module whose name starts so"),
        "shared_libs": attr.string_list(doc = "libraries to link shared even when an archive exists"),
        "extra_linkopts": attr.string_list(),
        "extra_files": attr.label_keyed_string_dict(allow_files = True, doc = "source file -> path in the repository"),
        "replaced_libs": attr.string_list(doc = "on x86_64: libraries not linked, answered by replacement_files"),
        "replacement_files": attr.label_keyed_string_dict(allow_files = True, doc = "on x86_64: source file -> path, built into the library"),
        "build_template": attr.label(allow_single_file = True, mandatory = True),
        "alias_packages": attr.string_list_dict(doc = "package -> targets that forward to alias_to"),
        "alias_to": attr.string(default = ""),
    },
)

def _files_repository_impl(rctx):
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    for label, path in rctx.attr.files.items():
        rctx.symlink(label, path)

# A repository made of files of this one: used for the small local stand-ins
# of rules_cc and remote_coverage_tools that Bazel 4.2.3's default WORKSPACE
# suffix would otherwise download.
files_repository = repository_rule(
    implementation = _files_repository_impl,
    attrs = {"files": attr.label_keyed_string_dict(doc = "source file -> path in the repository")},
    local = True,
)

# Abseil packages and the upstream target names inside them that daemonkit
# or its users are likely to depend on. All forward to one library holding
# every Abseil header and archive, in pkg-config's static link order.
_ABSL_TARGETS = {
    "absl/algorithm": ["algorithm", "container"],
    "absl/base": ["base", "core_headers", "log_severity"],
    "absl/cleanup": ["cleanup"],
    "absl/container": ["btree", "fixed_array", "flat_hash_map", "flat_hash_set", "inlined_vector", "node_hash_map", "node_hash_set"],
    "absl/debugging": ["failure_signal_handler", "stacktrace", "symbolize"],
    "absl/flags": ["commandlineflag", "config", "declare", "flag", "marshalling", "parse", "reflection", "usage", "usage_config"],
    "absl/functional": ["bind_front", "function_ref"],
    "absl/hash": ["hash"],
    "absl/memory": ["memory"],
    "absl/meta": ["type_traits"],
    "absl/numeric": ["bits", "int128"],
    "absl/random": ["random"],
    "absl/status": ["status", "statusor"],
    "absl/strings": ["cord", "str_format", "strings"],
    "absl/synchronization": ["synchronization"],
    "absl/time": ["time"],
    "absl/types": ["optional", "span", "variant"],
    "absl/utility": ["utility"],
}

def daemonkit_dependencies():
    """Declares every external repository daemonkit needs, offline."""
    maybe(
        files_repository,
        name = "rules_cc",
        files = {
            "@daemonkit//third_party/rules_cc:BUILD.root": "BUILD.bazel",
            "@daemonkit//third_party/rules_cc:BUILD.cc": "cc/BUILD.bazel",
            "@daemonkit//third_party/rules_cc:defs.bzl": "cc/defs.bzl",
        },
    )
    maybe(
        native.local_repository,
        name = "rules_java",
        path = "/usr/share/bazel/rules/java",
    )
    maybe(
        files_repository,
        name = "remote_coverage_tools",
        files = {
            "@daemonkit//third_party/remote_coverage_tools:BUILD.root": "BUILD.bazel",
            "@daemonkit//third_party/remote_coverage_tools:unsupported.sh": "unsupported.sh",
        },
    )
    maybe(
        debian_cc_library,
        name = "com_google_absl",
        header_dirs = ["absl"],
        pkg_config_prefixes = ["absl_"],
        build_template = "@daemonkit//third_party:absl.BUILD.tpl",
        extra_files = {"@daemonkit//third_party:absl_release_defaults.cc": "absl_release_defaults.cc"},
        alias_packages = _ABSL_TARGETS,
        alias_to = "absl",
    )
    maybe(
        debian_cc_library,
        name = "com_github_gflags_gflags",
        header_dirs = ["gflags"],
        pkg_config_modules = ["gflags"],
        build_template = "@daemonkit//third_party:gflags.BUILD.tpl",
    )
    maybe(
        debian_cc_library,
        name = "com_github_google_glog",
        header_dirs = ["glog"],
        pkg_config_modules = ["libglog"],
        shared_libs = ["unwind"],
        # glog calls libunwind only to print a stack trace when the program
        # dies; libgcc's unwinder answers those calls (third_party/
        # glog_unwind.c), so binaries no longer load libunwind.so.8 and
        # liblzma.so.5 at every start.
        replaced_libs = ["unwind"],
        replacement_files = {"@daemonkit//third_party:glog_unwind.c": "glog_unwind.c"},
        build_template = "@daemonkit//third_party:glog.BUILD.tpl",
    )
    maybe(
        native.new_local_repository,
        name = "com_google_googletest",
        path = "/usr/src/googletest",
        build_file = "@daemonkit//third_party/googletest:BUILD.googletest",
    )
