//! The browser package (`bindings/wasm`): build, size, demo and its CI suite.
//!
//! - `wasm`: the npm package in `bindings/wasm/dist/`: the module built with
//!   a pinned nightly (std rebuilt for size, panics abort without formatting;
//!   see `docs/performance.md`), then npm binaryen's `wasm-opt -Oz`; the UI's
//!   strings from the core's catalog go into the UI chunk.
//! - `size`: raw / gzip / brotli bytes of the headless widget and of the UI.
//! - `demo [--port N]`: the demo store on the sandbox, at the printed URL.
//! - `ci`: the packed tarball installed in a clean project, then node tests,
//!   `tsc --strict` on the seed's examples, and the Chromium suite (demo,
//!   script tag, ES module, apps of five bundlers, scenarios) against the
//!   real sandbox.
//!
//! Tools live under `~/.cache/vizochok/` (keyed by version or by the hash of
//! the npm manifest), so a second run on the same machine skips installs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::{cmd, probe, root, run, sandbox_bin, target_dir, Result};

const TARGET: &str = "wasm32-unknown-unknown";
/// The toolchain of the browser build only (the native crates stay on
/// stable): `-Z build-std` rebuilds std at this build's size settings (and
/// with its smaller implementations, `optimize_for_size`), and
/// `-C panic=immediate-abort` drops every panic message and the formatting
/// code behind them. Pinned, so a build is the same on every machine.
const NIGHTLY: &str = "nightly-2026-05-20";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The wasm features the Rust toolchain emits by default; wasm-opt must
/// accept them (and add no others).
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
];
fn package_dir() -> PathBuf {
    root().join("bindings/wasm")
}

fn dist_dir() -> PathBuf {
    package_dir().join("dist")
}

fn cache_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| root().join(".cache"));
    home.join(".cache/vizochok")
}

fn io<'a>(what: &'a str, path: &'a Path) -> impl Fn(std::io::Error) -> String + 'a {
    move |e| format!("{what} {}: {e}", path.display())
}

/// Builds the npm package into `bindings/wasm/dist/`.
pub fn wasm() -> Result {
    nightly()?;
    let node_modules = npm_tools()?;

    // Size-first settings for this build only (the workspace's release
    // profile serves the native crates), in a target dir of its own so that
    // stable builds of the workspace and this one never evict each other.
    let target = target_dir().join("wasm");
    let toolchain = format!("+{NIGHTLY}");
    let mut build = cmd(
        "cargo",
        &[
            &toolchain,
            "build",
            "-p",
            "vizochok-wasm",
            "--target",
            TARGET,
            "--release",
            "--locked",
            "-Zbuild-std=std,panic_abort",
            "-Zbuild-std-features=optimize_for_size",
        ],
    );
    build
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", "-Cpanic=immediate-abort -Zunstable-options")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false");
    run(&mut build)?;
    let raw = target.join(TARGET).join("release/vizochok_wasm.wasm");

    let optimized = target.join("vizochok_opt.wasm");
    let mut opt = Command::new(node_modules.join(".bin/wasm-opt"));
    // `-Oz`, then flattening and re-looping the control flow, then `-Oz`
    // twice: about 300 B less brotli than one `-Oz` (measured on this
    // module). Then once more knowing that the lowest KiB of memory is
    // never used, which folds constant offsets into loads and stores
    // (-170 B): the linker puts the 1 MiB stack first (`--stack-first`),
    // growing down towards 0, and the codec's nesting limit keeps it far
    // from there. Last, constants propagated across calls (`--gufa`), the
    // whole list repeated while it still shrinks (`--converge`), and the
    // functions and locals most used given the shortest indices: -225 B.
    opt.args(["-Oz", "--flatten", "--rereloop", "-Oz", "-Oz", "--low-memory-unused", "--gufa", "-Oz"])
        .args(["--converge", "--reorder-functions", "--reorder-locals"])
        .args(WASM_FEATURES)
        .args(["--strip-debug", "--strip-producers", "--strip-target-features"])
        .arg(&raw)
        .arg("-o")
        .arg(&optimized);
    run(&mut opt)?;

    // The UI's strings travel with the UI chunk, not in the headless module.
    let strings = target.join("ui-strings.json");
    fs::write(&strings, ui_strings()).map_err(io("cannot write", &strings))?;

    let dist = dist_dir();
    let _ = fs::remove_dir_all(&dist);
    let build = package_dir().join("js/tools/build.mjs");
    run(cmd("node", &[]).arg(build).arg(&optimized).arg(&strings).arg(&dist))?;
    println!("\nxtask wasm: the npm package is in {}", dist.display());
    Ok(())
}

/// Every UI string of the core's catalog, by language: `{"en": {key: text}, "uk": …}`.
fn ui_strings() -> String {
    use vizochok_proto::frame::payload::strings_json;
    use vizochok_proto::{Language, UiText};
    let language = |l: Language| strings_json(UiText::ALL.iter().map(|t| (t.key(), t.text(l))));
    ["{\"en\":", &language(Language::En), ",\"uk\":", &language(Language::Uk), "}"].concat()
}

/// The pinned nightly with std's sources, installed once.
fn nightly() -> Result {
    let toolchain = format!("+{NIGHTLY}");
    let sysroot = Command::new("rustc").args([&toolchain, "--print", "sysroot"]).output();
    let has_src = sysroot.ok().filter(|o| o.status.success()).is_some_and(|o| {
        let root = String::from_utf8_lossy(&o.stdout).trim().to_owned();
        Path::new(&root).join("lib/rustlib/src/rust/library/std").is_dir()
    });
    if !has_src {
        let args = ["toolchain", "install", NIGHTLY, "--profile", "minimal", "-c", "rust-src", "-t", TARGET];
        run(&mut cmd("rustup", &args))?;
    }
    Ok(())
}

/// Prints raw, gzip and brotli bytes of the headless widget and of the UI.
pub fn size() -> Result {
    if !dist_dir().join("vizochok_bg.wasm").exists() {
        wasm()?;
    }
    let script = package_dir().join("js/tools/size.mjs");
    run(cmd("node", &[]).arg(script).arg(dist_dir()))
}

/// Builds the package and serves the demo store on the sandbox.
pub fn demo(args: &[String]) -> Result {
    let mut port = String::from("8787");
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--port" => port = rest.next().cloned().ok_or("--port needs a number")?,
            other => return Err(format!("xtask demo: unknown argument {other:?} (usage: demo [--port N])")),
        }
    }
    port.parse::<u16>().map_err(|_| format!("--port {port:?} is not a port number"))?;
    wasm()?;
    let site = site()?;
    let vizochok = sandbox_bin()?;
    let addr = format!("127.0.0.1:{port}");
    println!("\nVIZOCHOK demo store: http://{addr}/  (Ctrl-C stops the sandbox)\n");
    run(Command::new(vizochok).args(["sandbox", "--addr", &addr, "--static"]).arg(&site))
}

/// Builds and weighs the package, packs it, installs the tarball in a clean
/// project, and runs every test against what that install put on disk: node
/// tests, the seed's examples under `tsc --strict`, and the Chromium suite
/// (demo, script tag, ES module, bundler apps, scenarios) against the real
/// sandbox.
pub fn ci() -> Result {
    if !Path::new(CHROMIUM).exists() {
        run(&mut cmd("apt-get", &["update"]))?;
        run(cmd("apt-get", &["install", "-y", "--no-install-recommends", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    wasm()?;
    size()?;
    let node_modules = npm_tools()?;
    let js = package_dir().join("js");
    let tarball = pack()?;
    let consumer = install_in_clean_project(&tarball)?;
    let installed = consumer.join("node_modules/vizochok");

    run(cmd("node", &["--test"])
        .args(test_files(&js.join("test"))?)
        .env("VIZOCHOK_PACKAGE", installed.join("vizochok.mjs")))?;
    for file in ["tsconfig.json", "seed-examples.ts", "language-tags.ts"] {
        copy(&js.join("types").join(file), &consumer.join(file))?;
    }
    run(Command::new(node_modules.join(".bin/tsc")).current_dir(&consumer).args(["-p", "tsconfig.json"]))?;

    let bundlers = npm_install(&js.join("e2e/apps/package.json"), "bundlers")?;
    let vizochok = sandbox_bin()?;
    let output = package_dir().join("output");
    fs::create_dir_all(&output).map_err(io("cannot create", &output))?;
    let mut e2e = cmd("node", &["--test", "--test-concurrency=1"]);
    e2e.args(test_files(&js.join("e2e"))?)
        .env("VIZOCHOK_BIN", &vizochok)
        .env("VIZOCHOK_PACKAGE_DIR", &installed)
        .env("VIZOCHOK_TARBALL", &tarball)
        .env("VIZOCHOK_BUNDLERS", &bundlers)
        .env("VIZOCHOK_OUTPUT", &output)
        .env("CHROMIUM", CHROMIUM);
    run(&mut e2e)?;
    println!("screenshots: {}", output.display());
    Ok(())
}

/// `npm pack` of dist/: the tarball a store installs.
fn pack() -> Result<PathBuf> {
    let dir = target_dir().join("wasm-pack");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(io("cannot create", &dir))?;
    let out = Command::new("npm")
        .args(["pack", "--silent", "--pack-destination"])
        .arg(&dir)
        .arg(dist_dir())
        .output()
        .map_err(|e| format!("cannot run npm pack: {e}"))?;
    if !out.status.success() {
        return Err(format!("npm pack failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let name = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    println!("packed {}", dir.join(&name).display());
    Ok(dir.join(name))
}

/// A new project with nothing but the tarball installed (no registry needed).
fn install_in_clean_project(tarball: &Path) -> Result<PathBuf> {
    let dir = target_dir().join("wasm-consumer");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(io("cannot create", &dir))?;
    let manifest = dir.join("package.json");
    fs::write(&manifest, "{ \"name\": \"a-store\", \"private\": true, \"type\": \"module\" }\n")
        .map_err(io("cannot write", &manifest))?;
    run(Command::new("npm").current_dir(&dir).args(["install", "--no-audit", "--no-fund", "--offline"]).arg(tarball))?;
    Ok(dir)
}

/// `*.test.mjs` in `dir`, sorted (node 20's `--test` takes files, not globs).
fn test_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(io("cannot read", dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_str().is_some_and(|s| s.ends_with(".test.mjs")))
        .collect();
    files.sort();
    Ok(files)
}

/// The demo store with the package under `/vizochok/`, in the target dir.
fn site() -> Result<PathBuf> {
    let site = target_dir().join("wasm-site");
    let _ = fs::remove_dir_all(&site);
    copy_dir(&package_dir().join("demo"), &site)?;
    copy_dir(&dist_dir(), &site.join("vizochok"))?;
    Ok(site)
}

/// The npm tools of `bindings/wasm/js/package.json` (exact versions),
/// installed under `~/.cache/vizochok/npm/` keyed by the manifest's hash,
/// and linked as `bindings/wasm/js/node_modules` for the tests' imports.
fn npm_tools() -> Result<PathBuf> {
    let node_modules = npm_install(&package_dir().join("js/package.json"), "wasm")?;
    let link = package_dir().join("js/node_modules");
    if fs::read_link(&link).ok().as_deref() != Some(node_modules.as_path()) {
        if link.is_symlink() || link.is_file() {
            fs::remove_file(&link).map_err(io("cannot replace", &link))?;
        } else if link.is_dir() {
            fs::remove_dir_all(&link).map_err(io("cannot replace", &link))?;
        }
        std::os::unix::fs::symlink(&node_modules, &link).map_err(io("cannot link", &link))?;
    }
    Ok(node_modules)
}

/// The packages of an npm manifest (exact versions), installed once under
/// `~/.cache/vizochok/npm/<name>-<hash of the manifest>/node_modules`. The
/// lock file npm writes there marks the directory as the apps' workspace
/// root for Next.js's Turbopack, which resolves nothing above its root.
fn npm_install(manifest: &Path, name: &str) -> Result<PathBuf> {
    if !probe("npm", &["--version"]) {
        return Err("node and npm are needed (apt-get install nodejs npm)".into());
    }
    let text = fs::read(manifest).map_err(io("cannot read", manifest))?;
    let dir = cache_dir().join(format!("npm/{name}-{:016x}", fnv1a(&text)));
    let stamp = dir.join(".installed");
    if !stamp.exists() {
        fs::create_dir_all(&dir).map_err(io("cannot create", &dir))?;
        fs::write(dir.join("package.json"), &text).map_err(io("cannot write", &dir))?;
        run(Command::new("npm").current_dir(&dir).args(["install", "--no-audit", "--no-fund"]))?;
        fs::write(&stamp, b"").map_err(io("cannot write", &stamp))?;
    }
    Ok(dir.join("node_modules"))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn copy(from: &Path, to: &Path) -> Result {
    fs::copy(from, to).map(|_| ()).map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result {
    fs::create_dir_all(to).map_err(io("cannot create", to))?;
    for entry in fs::read_dir(from).map_err(io("cannot read", from))? {
        let entry = entry.map_err(io("cannot read", from))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            copy(&path, &target)?;
        }
    }
    Ok(())
}
