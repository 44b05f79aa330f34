"""The C API as a shared library, for programs linked outside Bazel.

Why not cc_binary(linkshared = True): Debian's Abseil, glog and gflags
archives, which the build links, are not position-independent (gold:
"requires dynamic R_X86_64_PC32 reloc ... recompile with -fPIC"), so no
shared object can hold them. This rule links daemonkit's own PIC archives,
whole, against Debian's shared builds of those same libraries (the same
packages, headers and versions): libabsl_*.so, libglog.so, libgflags.so.
"""

# The repositories whose libraries are Debian's archives (third_party/
# repositories.bzl): linked as -lNAME, Debian's shared build.
_DEBIAN_REPOSITORIES = [
    "com_google_absl",
    "com_github_google_glog",
    "com_github_gflags_gflags",
]

def _daemonkit_shared_library_impl(ctx):
    archives = []
    system_libraries = []
    link_flags = []
    for linker_input in ctx.attr.dep[CcInfo].linking_context.linker_inputs.to_list():
        link_flags.extend(linker_input.user_link_flags)
        for library in linker_input.libraries:
            archive = library.pic_static_library or library.static_library
            if archive == None:
                continue
            repository = archive.owner.workspace_name
            if repository in _DEBIAN_REPOSITORIES and archive.is_source:
                if archive.basename.startswith("lib"):
                    system_libraries.append("-l" + archive.basename[3:-2])
                continue
            if repository:
                # Bazel-built helpers of those repositories (glog's stack
                # unwinder): the shared builds do not need them.
                continue
            if library.pic_static_library == None:
                fail("no position-independent archive of " + archive.path)
            archives.append(archive)

    output = ctx.outputs.out
    args = ctx.actions.args()
    args.add("-shared")
    args.add("-o", output)
    args.add("-Wl,-soname," + output.basename)
    args.add("-Wl,--no-undefined")
    args.add("-Wl,--whole-archive")
    args.add_all(archives)
    args.add("-Wl,--no-whole-archive")
    args.add_all(system_libraries)
    args.add_all([flag for flag in link_flags if flag.startswith("-l") or flag.startswith("-Wl,")])
    args.add_all(["-lstdc++", "-lm", "-lpthread"])

    # --linkopt, e.g. the sanitizer configurations' -fsanitize=...: the
    # archives were compiled for them.
    args.add_all(ctx.fragments.cpp.linkopts)
    ctx.actions.run(
        executable = "/usr/bin/g++",
        arguments = [args],
        inputs = archives,
        outputs = [output],
        mnemonic = "DaemonkitSharedLibrary",
        use_default_shell_env = True,
        progress_message = "Linking %s" % output.short_path,
    )
    return [DefaultInfo(files = depset([output]), runfiles = ctx.runfiles(files = [output]))]

daemonkit_shared_library = rule(
    implementation = _daemonkit_shared_library_impl,
    fragments = ["cpp"],
    attrs = {
        "dep": attr.label(providers = [CcInfo], mandatory = True),
        "out": attr.output(mandatory = True),
    },
)
