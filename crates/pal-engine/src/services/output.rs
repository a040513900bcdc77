//! Output files that are complete or absent. A file output is written to a temporary file
//! beside its target and renamed over it only once everything is written and flushed, so a
//! failed run (a full disk, a rejected row under `--strict`, a crash) leaves the previous file
//! as it was, never a torn one that looks like a short run. And before anything is read, the
//! outputs of a run are checked against its inputs and each other: writing over the extract or
//! the policy, or two outputs into one file, is refused.
//!
//! Targets that are not regular files (`/dev/stdout`, a FIFO) cannot be renamed over: they are
//! written in place.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A file being written: bytes go to a temporary file beside the target; [`OutputFile::commit`]
/// renames it over the target. Dropped without a commit, the temporary file is removed and the
/// target left as it was.
pub struct OutputFile {
    target: PathBuf,
    /// The temporary file, or `None` when writing the target in place (not a regular file).
    temp: Option<PathBuf>,
    file: BufWriter<File>,
}

impl OutputFile {
    /// Starts writing `target`.
    pub fn create(target: &Path) -> io::Result<OutputFile> {
        let in_place = std::fs::metadata(target).is_ok_and(|m| !m.is_file() && !m.is_dir());
        if in_place {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(target)?;
            return Ok(OutputFile {
                target: target.to_path_buf(),
                temp: None,
                file: BufWriter::with_capacity(1 << 20, file),
            });
        }
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::other("the output path names no file"))?;
        let dir = target
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // Hidden, named after the target and this process, so a leftover (after a kill -9) is
        // recognisable; `create_new` never follows or reuses another file.
        let mut attempt = 0;
        loop {
            let temp = dir.join(format!(
                ".{}.{}-{}.tmp",
                name.to_string_lossy(),
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            ));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
            {
                Ok(file) => {
                    return Ok(OutputFile {
                        target: target.to_path_buf(),
                        temp: Some(temp),
                        file: BufWriter::with_capacity(1 << 20, file),
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The file this writes.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes, syncs and renames the temporary file over the target.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.flush()?;
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        // A replaced file keeps its permissions.
        if let Ok(meta) = std::fs::metadata(&self.target) {
            let _ = std::fs::set_permissions(&temp, meta.permissions());
        }
        let done = self
            .file
            .get_ref()
            .sync_all()
            .and_then(|()| std::fs::rename(&temp, &self.target));
        if done.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        done
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// Writes `bytes` to `target` through an [`OutputFile`]: complete or not at all.
pub fn write_file(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OutputFile::create(target)?;
    f.write_all(bytes)?;
    f.commit()
}

/// What identifies a file: its device and inode where it exists (a hard link or a symlink is
/// the same file), else its absolute path with `.`/`..` and symlinked folders resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    #[cfg(unix)]
    Inode(u64, u64),
    Path(PathBuf),
}

fn identity(path: &Path) -> Identity {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata(path) {
            return Identity::Inode(m.dev(), m.ino());
        }
    }
    if let Ok(p) = std::fs::canonicalize(path) {
        return Identity::Path(p);
    }
    // Not there yet: its folder resolved, plus its name.
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    Identity::Path(match path.file_name() {
        Some(n) => dir.join(n),
        None => path.to_path_buf(),
    })
}

/// Refuses outputs that would destroy an input or each other: `outputs` (an option name such
/// as `--ptl` and the path) must each be a file no input is, and no two the same file. Inputs
/// named `-` (standard input) are skipped. The message names both options.
pub fn check_outputs(inputs: &[(&str, &Path)], outputs: &[(&str, &Path)]) -> Result<(), String> {
    let inputs: Vec<(&str, &Path, Identity)> = inputs
        .iter()
        .filter(|(_, p)| *p != Path::new("-"))
        .map(|(what, p)| (*what, *p, identity(p)))
        .collect();
    let mut seen: Vec<(&str, &Path, Identity)> = Vec::new();
    for (what, path) in outputs {
        let id = identity(path);
        if let Some((input, ipath, _)) = inputs.iter().find(|(_, _, i)| *i == id) {
            return Err(format!(
                "{what} `{}` is the {input} `{}`: writing it would destroy the input; choose another file",
                path.display(),
                ipath.display()
            ));
        }
        if let Some((other, _, _)) = seen.iter().find(|(_, _, i)| *i == id) {
            return Err(format!(
                "{what} and {other} both name `{}`: one would overwrite the other; give each its own file",
                path.display()
            ));
        }
        seen.push((what, path, id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pal-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(&dir);
        dir
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|r| {
                r.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn an_uncommitted_output_leaves_the_old_file() {
        let dir = temp_dir("commit");
        let target = dir.join("out.jsonl");
        let _ = std::fs::write(&target, "old\n");
        {
            let mut f = OutputFile::create(&target).expect("create");
            let _ = f.write_all(b"half a result");
            // Dropped: the run failed.
        }
        assert_eq!(
            std::fs::read_to_string(&target).ok().as_deref(),
            Some("old\n")
        );
        assert_eq!(leftovers(&dir), ["out.jsonl"]);
        let mut f = OutputFile::create(&target).expect("create");
        let _ = f.write_all(b"new\n");
        assert!(f.commit().is_ok());
        assert_eq!(
            std::fs::read_to_string(&target).ok().as_deref(),
            Some("new\n")
        );
        assert_eq!(leftovers(&dir), ["out.jsonl"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn outputs_may_not_be_inputs_or_each_other() {
        let dir = temp_dir("check");
        let events = dir.join("events.csv");
        let _ = std::fs::write(&events, "x");
        let dotted = dir.join(".").join("events.csv");
        let new = dir.join("new.csv");
        let e = check_outputs(&[("events", &events)], &[("--ptl", &dotted)]);
        assert!(e.is_err_and(|m| m.contains("--ptl") && m.contains("destroy")));
        let e = check_outputs(&[("events", &events)], &[("-o", &new), ("--ptl", &new)]);
        assert!(e.is_err_and(|m| m.contains("--ptl and -o both name")));
        let relative_twice = dir.join("sub").join("..").join("new.csv");
        let _ = std::fs::create_dir_all(dir.join("sub"));
        let e = check_outputs(&[], &[("-o", &new), ("--ptl", &relative_twice)]);
        assert!(e.is_err());
        #[cfg(unix)]
        {
            let link = dir.join("link.csv");
            let _ = std::os::unix::fs::symlink(&events, &link);
            assert!(check_outputs(&[("events", &events)], &[("-o", &link)]).is_err());
        }
        assert!(check_outputs(&[("events", Path::new("-"))], &[("-o", &new)]).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
