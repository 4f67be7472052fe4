//! Sessions on disk: the engine's snapshot in one file, replaced atomically
//! (write a temporary file, then rename) so a crash never leaves half a file.

use std::io::Write;
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
    /// Creates the directory if needed, for its owner only: a snapshot
    /// holds whole session ids, each of which resumes a conversation and
    /// its cart.
    pub fn open(dir: &Path) -> Result<StateDir, SandboxError> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|source| SandboxError::Io { path: dir.into(), source })?;
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
        // Made afresh, readable by its owner only (whatever an older one allowed).
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&tmp)?.write_all(snapshot.as_bytes())?;
        std::fs::rename(tmp, self.file())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_snapshot_and_a_new_directory_are_their_owners_alone() {
        let root = std::env::temp_dir().join(format!("vizochok-state-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let state = StateDir::open(&root.join("state")).unwrap();
        // A temporary file an older sandbox left readable to all is replaced.
        std::fs::write(root.join("state").join(TMP), "old").unwrap();
        std::fs::set_permissions(root.join("state").join(TMP), std::fs::Permissions::from_mode(0o644)).unwrap();
        state.save("{}").unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root.join("state")), 0o700);
        assert_eq!(mode(&state.file()), 0o600);
        assert_eq!(state.load().unwrap().as_deref(), Some("{}"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
