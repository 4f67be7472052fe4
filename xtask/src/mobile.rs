//! The Kotlin and Swift SDKs (uniffi).
//!
//! - `cargo xtask bindgen` regenerates the committed Kotlin and Swift sources
//!   from the unstripped debug `libvizochok_ffi.so` (uniffi library mode).
//! - `cargo xtask bindgen --check` fails when the committed sources are stale.
//! - `cargo xtask bindgen --ci` runs only the mobile part of CI ([`ci`]).
//!
//! [`ci`] installs what it needs under `~/.cache/vizochok/` (kotlinc from npm,
//! pinned jars from Maven Central, a Debian trixie chroot with `swiftlang`),
//! skipping whatever is already there, then runs the Kotlin tests on the JVM
//! and `swift test` in the chroot, both against the real `vizochok sandbox`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::run::{cmd, debug_build, probe, root, run, sandbox_bin, target_dir, Result};

/// The library crate and its file.
const FFI_CRATE: &str = "vizochok-ffi";
const FFI_LIB: &str = "libvizochok_ffi.so";

/// The crates with uniffi scaffolding: (bindgen's `--crate` name, namespace).
/// A crate's generated files are named after its namespace.
const FFI_CRATES: &[(&str, &str)] =
    &[("vizochok_proto", "vizochok_proto"), ("vizochok_core", "vizochok_core"), ("vizochok_ffi", "vizochok")];

/// Folders that hold nothing but generated files, each wholly rewritten by
/// `cargo xtask bindgen`: Kotlin sources, Swift sources, C headers.
const KOTLIN_GENERATED: &str = "bindings/kotlin/src/main/kotlin/com/vizochok/generated";
const SWIFT_GENERATED: &str = "bindings/swift/Sources/Vizochok/Generated";
const HEADERS_GENERATED: &str = "bindings/swift/Sources/VizochokFFI/Generated";

/// The Kotlin compiler from npm.
const KOTLIN_COMPILER: &str = "kotlin-compiler@2.4.20";
/// Jars from Maven Central: (group path, artifact, version, sha256).
const JARS: &[(&str, &str, &str, &str)] = &[
    ("com/squareup/okhttp3", "okhttp", "4.12.0", "b1050081b14bb7a3a7e55a4d3ef01b5dcfabc453b4573a4fc019767191d5f4e0"),
    ("com/squareup/okio", "okio-jvm", "3.6.0", "67543f0736fc422ae927ed0e504b98bc5e269fda0d3500579337cb713da28412"),
    (
        "org/jetbrains/kotlinx",
        "kotlinx-coroutines-core-jvm",
        "1.8.1",
        "f3d4f5de1c391bbcc20f3b3435ccbac013521e76b6902d7d59635ec15c1f797e",
    ),
];
const MAVEN_CENTRAL: &str = "https://repo1.maven.org/maven2";

/// The Swift toolchain: a Debian trixie chroot with `swiftlang`.
const SWIFT_CHROOT: &str = "swift-trixie-6.0";
/// `swiftlang` plus the C library headers its linker needs (a Recommends of gcc).
const SWIFT_PACKAGES: &[&str] = &["swiftlang", "libc6-dev"];

fn cache() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| root().join(".cache"));
    home.join(".cache/vizochok")
}

fn lib_dir() -> PathBuf {
    target_dir().join("debug")
}

/// `cargo xtask bindgen [--check | --ci]`.
pub fn bindgen(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        None => {
            build_library()?;
            generate(false)
        }
        Some("--check") => {
            build_library()?;
            generate(true)
        }
        Some("--ci") => ci(),
        Some(other) => Err(format!("xtask bindgen: unknown option {other} (use --check or --ci)")),
    }
}

/// The mobile part of CI.
pub fn ci() -> Result {
    let started = Instant::now();
    build_library()?;
    generate(true)?;
    let sandbox = sandbox_bin()?;
    let kotlin = kotlin_toolchain()?;
    kotlin_tests(&kotlin, &sandbox)?;
    let chroot = swift_toolchain()?;
    swift_tests(&chroot, &sandbox)?;
    println!("\nxtask mobile: Kotlin and Swift suites passed in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Builds the FFI library and the bindgen binary.
fn build_library() -> Result {
    debug_build(&[FFI_CRATE, "uniffi-bindgen"])
}

/// Generates both languages into a scratch directory, then puts them in
/// place (or, with `check`, compares them with the committed folders).
fn generate(check: bool) -> Result {
    let scratch = target_dir().join("uniffi-out");
    let _ = fs::remove_dir_all(&scratch);
    // Kotlin: one file per crate, each in its own package.
    let kotlin = scratch.join("kotlin");
    run_bindgen("kotlin", None, &kotlin)?;
    let mut files = Vec::new();
    for (_, namespace) in FFI_CRATES {
        let found = find_file(&kotlin, &format!("{namespace}.kt"))?;
        files.push((KOTLIN_GENERATED, format!("{namespace}.kt"), fs::read(found).map_err(|e| e.to_string())?));
    }
    // Swift: every crate into the one module `Vizochok`; bindgen names a
    // crate's source after the module, so each crate is generated alone.
    for (crate_name, namespace) in FFI_CRATES {
        let out = scratch.join("swift").join(crate_name);
        run_bindgen("swift", Some(crate_name), &out)?;
        let read = |name: &str| fs::read(out.join(name)).map_err(|e| format!("bindgen did not write {name}: {e}"));
        files.push((SWIFT_GENERATED, format!("{namespace}.swift"), read("Vizochok.swift")?));
        let header = format!("{namespace}FFI.h");
        files.push((HEADERS_GENERATED, header.clone(), read(&header)?));
    }
    let mut stale = Vec::new();
    for folder in [KOTLIN_GENERATED, SWIFT_GENERATED, HEADERS_GENERATED] {
        let dir = root().join(folder);
        let fresh: Vec<_> = files.iter().filter(|(f, _, _)| *f == folder).collect();
        if check {
            let committed = fs::read_dir(&dir).map(|d| d.flatten().count()).unwrap_or(0);
            let same =
                |(_, name, data): &&(&str, String, Vec<u8>)| fs::read(dir.join(name)).ok().as_ref() == Some(data);
            if committed != fresh.len() || !fresh.iter().all(same) {
                stale.push(folder);
            }
        } else {
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).map_err(|e| format!("cannot create {folder}: {e}"))?;
            for (_, name, data) in fresh {
                fs::write(dir.join(name), data).map_err(|e| format!("cannot write {folder}/{name}: {e}"))?;
                println!("  wrote {folder}/{name}");
            }
        }
    }
    if stale.is_empty() {
        if check {
            println!("  the committed Kotlin and Swift bindings are up to date");
        }
        Ok(())
    } else {
        Err(format!("stale generated bindings (run `cargo xtask bindgen` and commit): {}", stale.join(", ")))
    }
}

/// `uniffi-bindgen generate` in library mode on the unstripped debug library.
fn run_bindgen(language: &str, crate_name: Option<&str>, out: &Path) -> Result {
    let library = lib_dir().join(FFI_LIB);
    let library = library.to_str().ok_or("non-UTF-8 target dir")?;
    let out = out.to_str().ok_or("non-UTF-8 target dir")?;
    let bindgen = lib_dir().join("uniffi-bindgen");
    let mut command = cmd(bindgen.to_str().ok_or("non-UTF-8 target dir")?, &["generate"]);
    command.args(["--library", library, "--language", language, "--out-dir", out, "--no-format"]);
    if let Some(name) = crate_name {
        command.args(["--crate", name]);
    }
    run(&mut command)
}

/// The one file called `name` under `dir` (bindgen puts Kotlin in package folders).
fn find_file(dir: &Path, name: &str) -> Result<PathBuf> {
    for entry in fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Ok(found) = find_file(&path, name) {
                return Ok(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Ok(path);
        }
    }
    Err(format!("bindgen did not write {name} under {}", dir.display()))
}

// ----- Kotlin --------------------------------------------------------------------------

struct Kotlin {
    kotlinc: PathBuf,
    stdlib: PathBuf,
    classpath: Vec<PathBuf>,
}

fn kotlin_toolchain() -> Result<Kotlin> {
    let jna = PathBuf::from("/usr/share/java/jna.jar");
    if !jna.exists() {
        apt_install(&["libjna-java"])?;
    }
    let npm_dir = cache().join(format!("npm-{}", KOTLIN_COMPILER.replace('@', "-")));
    let home = npm_dir.join("node_modules/kotlin-compiler");
    let kotlinc = home.join("bin/kotlinc");
    if !kotlinc.exists() {
        if !probe("npm", &["--version"]) {
            apt_install(&["nodejs", "npm"])?;
        }
        fs::create_dir_all(&npm_dir).map_err(|e| format!("cannot create {}: {e}", npm_dir.display()))?;
        let prefix = npm_dir.to_str().ok_or("non-UTF-8 cache dir")?;
        run(&mut cmd("npm", &["install", "--no-audit", "--no-fund", "--prefix", prefix, KOTLIN_COMPILER]))?;
    }
    if !probe("java", &["-version"]) {
        apt_install(&["default-jdk-headless"])?;
    }
    let mut classpath = vec![jna];
    let jars = cache().join("jars");
    fs::create_dir_all(&jars).map_err(|e| format!("cannot create {}: {e}", jars.display()))?;
    for (group, artifact, version, sha256) in JARS {
        let file = jars.join(format!("{artifact}-{version}.jar"));
        if !file.exists() || sha256_of(&file)? != *sha256 {
            let url = format!("{MAVEN_CENTRAL}/{group}/{artifact}/{version}/{artifact}-{version}.jar");
            let partial = file.with_extension("jar.part");
            let partial_str = partial.to_str().ok_or("non-UTF-8 cache dir")?;
            run(&mut cmd("curl", &["-fsSL", "--retry", "3", "-o", partial_str, &url]))?;
            let got = sha256_of(&partial)?;
            if got != *sha256 {
                return Err(format!("{url}: sha256 {got}, expected {sha256}"));
            }
            fs::rename(&partial, &file).map_err(|e| format!("cannot move {}: {e}", file.display()))?;
        }
        classpath.push(file);
    }
    let stdlib = home.join("lib/kotlin-stdlib.jar");
    Ok(Kotlin { kotlinc, stdlib, classpath })
}

fn kotlin_tests(kotlin: &Kotlin, sandbox: &Path) -> Result {
    let sources = root().join("bindings/kotlin/src");
    let out = target_dir().join("kotlin/vizochok-tests.jar");
    if let Some(parent) = out.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let compile_cp = join_paths(&kotlin.classpath);
    let mut compile = Command::new(&kotlin.kotlinc);
    compile
        .current_dir(root())
        .args(["-nowarn", "-jvm-target", "17", "-cp", &compile_cp, "-d"])
        .arg(&out)
        .arg(sources.join("main/kotlin"))
        .arg(sources.join("test/kotlin"));
    run(&mut compile)?;

    let mut run_cp = kotlin.classpath.clone();
    run_cp.push(kotlin.stdlib.clone());
    run_cp.push(out);
    let mut test = Command::new("java");
    test.current_dir(root())
        .arg(format!("-Djna.library.path={}", lib_dir().display()))
        .args(["-cp", &join_paths(&run_cp), "com.vizochok.tests.MainKt"])
        .env("VIZOCHOK_BIN", sandbox)
        .env("VIZOCHOK_SCENARIOS", root().join("scenarios"));
    run(&mut test)
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":")
}

fn sha256_of(file: &Path) -> Result<String> {
    let output = Command::new("sha256sum").arg(file).output().map_err(|e| format!("cannot run sha256sum: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text.split_whitespace().next().unwrap_or("").to_owned())
}

// ----- Swift ---------------------------------------------------------------------------

/// Installs (once) a Debian trixie chroot with `swiftlang`. The chroot is made
/// by debootstrap only when its `debootstrapped` marker is missing (a half-made
/// one is made again); the `ready` marker names the packages installed, so a
/// changed list installs again into the same chroot.
fn swift_toolchain() -> Result<PathBuf> {
    let dir = cache().join(SWIFT_CHROOT);
    let chroot = dir.join("root");
    let wanted = SWIFT_PACKAGES.join(" ");
    let ready = dir.join("ready");
    if fs::read_to_string(&ready).is_ok_and(|installed| installed == wanted) {
        return Ok(chroot);
    }
    let base = dir.join("debootstrapped");
    if !base.exists() {
        if !Path::new("/usr/sbin/debootstrap").exists() {
            apt_install(&["debootstrap"])?;
        }
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&chroot).map_err(|e| format!("cannot create {}: {e}", chroot.display()))?;
        let target = chroot.to_str().ok_or("non-UTF-8 cache dir")?;
        run(&mut cmd("debootstrap", &["--variant=minbase", "trixie", target, &debian_mirror()]))?;
        fs::write(&base, "trixie").map_err(|e| format!("cannot write {}: {e}", base.display()))?;
    }
    fs::copy("/etc/resolv.conf", chroot.join("etc/resolv.conf")).map_err(|e| format!("resolv.conf: {e}"))?;
    let mut install =
        vec!["DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "--no-install-recommends"];
    install.extend_from_slice(SWIFT_PACKAGES);
    run(&mut in_chroot(&chroot, &install))?;
    fs::write(&ready, &wanted).map_err(|e| format!("cannot write {}: {e}", ready.display()))?;
    Ok(chroot)
}

/// The Debian mirror this machine already uses (first `URIs:` line).
fn debian_mirror() -> String {
    fs::read_to_string("/etc/apt/sources.list.d/debian.sources")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("URIs:").map(|u| u.split_whitespace().next().unwrap_or("").to_owned()))
        })
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "http://deb.debian.org/debian".to_owned())
}

fn in_chroot(chroot: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("chroot");
    command
        .arg(chroot)
        .args(["/usr/bin/env", "-i", "HOME=/root", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"])
        .args(args);
    command
}

/// Unmounts `/proc` in the chroot when dropped.
struct ProcMount(PathBuf);

impl ProcMount {
    fn mount(chroot: &Path) -> Result<ProcMount> {
        let proc_dir = chroot.join("proc");
        if !probe("mountpoint", &["-q", &proc_dir.to_string_lossy()]) {
            run(Command::new("mount").args(["-t", "proc", "proc"]).arg(&proc_dir))?;
        }
        Ok(ProcMount(proc_dir))
    }
}

impl Drop for ProcMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn swift_tests(chroot: &Path, sandbox: &Path) -> Result {
    // Inside the chroot: /vizochok/swift (the package; its .build stays for
    // the next run), /vizochok/lib (the .so), /vizochok/bin (the sandbox),
    // /vizochok/scenarios.
    let work = chroot.join("vizochok");
    let package = work.join("swift");
    for dir in ["lib", "bin"] {
        fs::create_dir_all(work.join(dir)).map_err(|e| format!("cannot create {dir}: {e}"))?;
    }
    copy_tree(&root().join("bindings/swift"), &package, &[".build"])?;
    let _ = fs::remove_dir_all(work.join("scenarios"));
    copy_tree(&root().join("scenarios"), &work.join("scenarios"), &[])?;
    copy_file(&lib_dir().join(FFI_LIB), &work.join("lib").join(FFI_LIB))?;
    copy_file(sandbox, &work.join("bin/vizochok"))?;

    let _proc = ProcMount::mount(chroot)?;
    run(&mut in_chroot(
        chroot,
        &[
            "LD_LIBRARY_PATH=/vizochok/lib",
            "VIZOCHOK_BIN=/vizochok/bin/vizochok",
            "VIZOCHOK_SCENARIOS=/vizochok/scenarios",
            // A hung test must not hold CI: every wait in the suite is bounded, this is the backstop.
            "timeout",
            "--kill-after=10",
            "900",
            "swift",
            "test",
            "--package-path",
            "/vizochok/swift",
            "-Xlinker",
            "-L/vizochok/lib",
        ],
    ))
}

/// Makes `to` a copy of the tree `from`, leaving top-level entries named in
/// `skip` alone, and writes only files whose content changed (so SwiftPM's
/// cache stays warm).
fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> Result {
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries = fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(&name), &[])?;
        } else {
            copy_file(&path, &to.join(&name))?;
        }
    }
    // What the source no longer has goes too (a generated file that moved, say).
    for entry in fs::read_dir(to).map_err(|e| format!("cannot read {}: {e}", to.display()))?.flatten() {
        let name = entry.file_name();
        if !skip.iter().any(|s| name == *s) && !from.join(&name).exists() {
            let path = entry.path();
            let removed = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
            removed.map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

fn copy_file(from: &Path, to: &Path) -> Result {
    let data = fs::read(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    if fs::read(to).ok().as_deref() == Some(data.as_slice()) {
        return Ok(());
    }
    fs::write(to, &data).map_err(|e| format!("cannot write {}: {e}", to.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(from).map_err(|e| format!("cannot stat {}: {e}", from.display()))?.permissions().mode();
        fs::set_permissions(to, fs::Permissions::from_mode(mode))
            .map_err(|e| format!("chmod {}: {e}", to.display()))?;
    }
    Ok(())
}

/// `apt-get update` once per run, then install.
fn apt_install(packages: &[&str]) -> Result {
    static UPDATED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !UPDATED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        run(&mut cmd("apt-get", &["update", "-q"]))?;
    }
    let mut command = cmd("apt-get", &["install", "-y", "-q", "--no-install-recommends"]);
    command.args(packages).env("DEBIAN_FRONTEND", "noninteractive");
    run(&mut command)
}
