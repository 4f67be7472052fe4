//! Sessions on disk: the engine's snapshot in one file, replaced atomically
//! (write a temporary file, then rename) so a crash never leaves half a file.

use std::path::{Path, PathBuf};

use super::SandboxError;

const FILE: &str = "engine-snapshot.json";
const TMP: &str = "engine-snapshot.json.tmp";

/// The state directory.
#[derive(Debug)]
pub(crate) struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// Creates the directory if needed.
    pub fn open(dir: &Path) -> Result<StateDir, SandboxError> {
        std::fs::create_dir_all(dir).map_err(|source| SandboxError::Io { path: dir.into(), source })?;
        Ok(StateDir { dir: dir.to_owned() })
    }

    /// The snapshot file.
    pub fn file(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    /// The last snapshot written, if any.
    pub fn load(&self) -> Result<Option<String>, SandboxError> {
        match std::fs::read_to_string(self.file()) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SandboxError::Io { path: self.file(), source }),
        }
    }

    /// Replaces the snapshot.
    pub fn save(&self, snapshot: &str) -> std::io::Result<()> {
        let tmp = self.dir.join(TMP);
        std::fs::write(&tmp, snapshot)?;
        std::fs::rename(tmp, self.file())
    }
}
