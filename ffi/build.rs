//! Gives the shared library a SONAME, so a program linked against it finds it
//! again at run time by that name (see docs/c-abi.md, "Linking dynamically").
//!
//! No ABI stability is promised between versions yet, so the SONAME carries
//! the exact version: `libzorg_pdp_ffi.so.0.1.0`. A program linked against one
//! version refuses to start with another, instead of calling functions whose
//! signatures changed. Only ELF targets have SONAMEs; elsewhere this does
//! nothing. The static library and the rlib are not affected.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let elf = matches!(
        os.as_str(),
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly" | "illumos"
    );
    if elf {
        let version = env!("CARGO_PKG_VERSION");
        println!("cargo::rustc-link-arg-cdylib=-Wl,-soname,libzorg_pdp_ffi.so.{version}");
    }
}
