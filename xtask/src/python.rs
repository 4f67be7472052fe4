//! The Python package (`bindings/python`): wheel and CI suite.
//!
//! - `python`: an abi3 wheel in `<target>/wheels/` (maturin from a tools
//!   virtualenv under `~/.cache/vizochok/python/`).
//! - `ci` (also `cargo xtask python ci`, to run this part alone): a fresh
//!   virtualenv, `pip install ./bindings/python` into it (as a user would),
//!   `mypy --strict` on the package, the example and the Python blocks of
//!   `docs/python.md`, then the pytest suite (the scenario suite through the
//!   widget, end to end against the real sandbox binary, the example, the docs).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::{cmd, probe, root, run, sandbox_bin, target_dir, Result};

/// The maturin of the toolchain notes.
const MATURIN: &str = "maturin>=1.16,<2";
/// What the test run installs next to the package.
const TEST_TOOLS: &[&str] = &["pytest>=8", "pytest-asyncio>=0.24", "mypy>=1.10", "websockets>=15"];

fn cache_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| root().join(".cache"));
    home.join(".cache/vizochok/python")
}

fn package_dir() -> PathBuf {
    root().join("bindings/python")
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str().ok_or_else(|| format!("path is not UTF-8: {}", path.display()))
}

/// `python3` with `venv` and `ensurepip`; installs Debian's packages if missing.
fn ensure_python() -> Result {
    if probe("python3", &["-c", "import ensurepip, venv, sys; assert sys.version_info >= (3, 10)"]) {
        return Ok(());
    }
    run(Command::new("apt-get").args(["update"]))?;
    run(Command::new("apt-get").args([
        "install",
        "-y",
        "--no-install-recommends",
        "python3",
        "python3-venv",
        "python3-pip",
    ]))
}

/// A new virtualenv at `dir` (replacing any old one) with an up-to-date pip.
fn fresh_venv(dir: &Path) -> Result<PathBuf> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
    }
    run(Command::new("python3").args(["-m", "venv", path_str(dir)?]))?;
    Ok(dir.join("bin/python"))
}

fn pip(python: &Path, args: &[&str]) -> Command {
    let mut command = cmd(path_str(python).unwrap_or("python3"), &["-m", "pip", "--disable-pip-version-check"]);
    command.args(args);
    command
}

/// Builds the wheel into `<target>/wheels/`; `cargo xtask python ci` runs [`ci`] instead.
pub fn python() -> Result {
    if std::env::args().nth(2).as_deref() == Some("ci") {
        return ci();
    }
    ensure_python()?;
    let tools = cache_dir().join("tools");
    let python = tools.join("bin/python");
    if !probe(path_str(&python)?, &["-m", "maturin", "--version"]) {
        let python = fresh_venv(&tools)?;
        run(&mut pip(&python, &["install", "--quiet", MATURIN]))?;
    }
    let out = target_dir().join("wheels");
    let manifest = package_dir().join("Cargo.toml");
    run(&mut cmd(
        path_str(&python)?,
        &["-m", "maturin", "build", "--release", "--manifest-path", path_str(&manifest)?, "--out", path_str(&out)?],
    ))?;
    println!("wheel in {}", out.display());
    Ok(())
}

/// Writes every ```python block of `docs/python.md` to its own module.
fn doc_examples(dir: &Path) -> Result<usize> {
    let doc = root().join("docs/python.md");
    let text = fs::read_to_string(&doc).map_err(|e| format!("cannot read {}: {e}", doc.display()))?;
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut count = 0;
    let mut rest = text.as_str();
    while let Some(start) = rest.find("```python\n") {
        let body = &rest[start + "```python\n".len()..];
        let end = body.find("```").ok_or("docs/python.md: an unterminated ```python block")?;
        let file = dir.join(format!("doc_example_{count}.py"));
        fs::write(&file, &body[..end]).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        count += 1;
        rest = &body[end + 3..];
    }
    Ok(count)
}

/// The Python suite, from a fresh virtualenv.
pub fn ci() -> Result {
    ensure_python()?;
    // The sandbox binary the end-to-end tests start.
    let sandbox = sandbox_bin()?;

    let cache = cache_dir();
    let python = fresh_venv(&cache.join("ci-venv"))?;
    run(&mut pip(&python, &["install", "--quiet", path_str(&package_dir())?]))?;
    let mut tools = vec!["install", "--quiet"];
    tools.extend_from_slice(TEST_TOOLS);
    run(&mut pip(&python, &tools))?;

    let examples = cache.join("doc-examples");
    let blocks = doc_examples(&examples)?;
    if blocks == 0 {
        return Err("docs/python.md has no ```python examples to check".into());
    }
    let mypy_cache = cache.join("mypy-cache");
    let py = path_str(&python)?;
    let strict = ["-m", "mypy", "--strict", "--cache-dir", path_str(&mypy_cache)?];
    // The docs' examples and the example bot, against the installed package...
    let mut mypy = cmd(py, &strict);
    mypy.args([path_str(&examples)?, path_str(&package_dir().join("examples"))?]);
    run(&mut mypy)?;
    // ...and the package's own sources.
    let mut mypy = cmd(py, &strict);
    mypy.arg(path_str(&package_dir().join("python/vizochok"))?);
    run(&mut mypy)?;

    let mut pytest = cmd(py, &["-m", "pytest", "-p", "no:cacheprovider", "-q", "tests"]);
    pytest.current_dir(package_dir()).env("VIZOCHOK_BIN", &sandbox).env("PYTHONDONTWRITEBYTECODE", "1");
    run(&mut pytest)
}
