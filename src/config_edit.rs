//! Edits `config.toml` in place: sets or removes a profile's keys and `[serve_api]`'s, keeping
//! every comment, the order of what is there, and the other profiles (`toml_edit`). The file is
//! replaced atomically, so a reader never sees half of it.

use std::path::Path;

use toml_edit::{DocumentMut, Item, Table, value};

use crate::error::{Error, Result};
use crate::store::file;

/// One change to a table: set a key, or remove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// `key = "value"`.
    Set(&'static str, String),
    /// Remove `key`.
    Remove(&'static str),
}

fn read(path: &Path) -> Result<DocumentMut> {
    let text = crate::config::read_config_text(path, false)?.unwrap_or_default();
    text.parse::<DocumentMut>().map_err(|e| Error::Config {
        path: path.to_path_buf(),
        line: None,
        message: e.message().to_owned(),
    })
}

/// The table at `path` (e.g. `["profiles", "work"]`), created when missing.
fn table_at<'a>(doc: &'a mut DocumentMut, names: &[&str]) -> Result<&'a mut Table> {
    let mut table = doc.as_table_mut();
    for name in names {
        let item = table.entry(name).or_insert_with(|| {
            let mut t = Table::new();
            // `[profiles.work]` without an empty `[profiles]` header above it.
            t.set_implicit(true);
            Item::Table(t)
        });
        table = item.as_table_mut().ok_or_else(|| {
            Error::usage(format!("`{name}` in the configuration file is not a table"))
        })?;
    }
    Ok(table)
}

/// Applies `edits` to the table at `names`, and returns whether anything changed.
fn apply(doc: &mut DocumentMut, names: &[&str], edits: &[Edit]) -> Result<bool> {
    let exists = {
        let mut t = Some(doc.as_table());
        for n in names {
            t = t.and_then(|t| t.get(n)).and_then(Item::as_table);
        }
        t.is_some()
    };
    if !exists && edits.iter().all(|e| matches!(e, Edit::Remove(_))) {
        return Ok(false);
    }
    let table = table_at(doc, names)?;
    table.set_implicit(false);
    let mut changed = false;
    for edit in edits {
        match edit {
            Edit::Set(k, v) => {
                if table.get(k).and_then(Item::as_str) != Some(v.as_str()) {
                    table.insert(k, value(v.as_str()));
                    changed = true;
                }
            }
            Edit::Remove(k) => changed |= table.remove(k).is_some(),
        }
    }
    Ok(changed)
}

/// Applies `profile_edits` to `[profiles.NAME]` and `serve_api_edits` to `[serve_api]` in the
/// file at `path` (created when missing); returns whether the file changed.
pub fn edit(
    path: &Path,
    profile: &str,
    profile_edits: &[Edit],
    serve_api_edits: &[Edit],
) -> Result<bool> {
    let Some(text) = edited(path, profile, profile_edits, serve_api_edits, false)? else {
        return Ok(false);
    };
    write(path, &text)?;
    Ok(true)
}

/// The file's text after the edits (`replace`: `[profiles.NAME]` holds only what `profile_edits`
/// set), or `None` when they change nothing. Nothing is written: the caller checks the result
/// first.
pub fn edited(
    path: &Path,
    profile: &str,
    profile_edits: &[Edit],
    serve_api_edits: &[Edit],
    replace: bool,
) -> Result<Option<String>> {
    let mut doc = read(path)?;
    let mut changed = false;
    if replace && let Some(profiles) = doc.get_mut("profiles").and_then(Item::as_table_mut) {
        changed |= profiles.remove(profile).is_some();
    }
    changed |= apply(&mut doc, &["profiles", profile], profile_edits)?;
    changed |= apply(&mut doc, &["serve_api"], serve_api_edits)?;
    Ok(changed.then(|| doc.to_string()))
}

/// True when the file has a `[profiles.NAME]` table.
pub fn has_profile(path: &Path, profile: &str) -> Result<bool> {
    let doc = read(path)?;
    Ok(doc
        .get("profiles")
        .and_then(Item::as_table)
        .and_then(|t| t.get(profile))
        .is_some())
}

/// Replaces the file with `text` atomically, mode 0600 (a profile names no secret, but the
/// `[serve_api]` table may name where one is).
pub fn write(path: &Path, text: &str) -> Result<()> {
    file::replace_private(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_comments_order_and_other_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let original = "# my settings\n[profiles.default]\ntenant = \"contoso.com\" # ours\nclient_id = \"old\"\n\n[profiles.other]\ntenant = \"fabrikam.com\"\n";
        std::fs::write(&path, original).unwrap();
        let changed = edit(
            &path,
            "default",
            &[
                Edit::Set("client_id", "new".into()),
                Edit::Set("api_scope", "api://x/access_as_user".into()),
            ],
            &[Edit::Set("client_secret_file", "/s".into())],
        )
        .unwrap();
        assert!(changed);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(
                "# my settings\n[profiles.default]\ntenant = \"contoso.com\" # ours\n"
            ),
            "{text}"
        );
        assert!(text.contains("client_id = \"new\""), "{text}");
        assert!(
            text.contains("[profiles.other]\ntenant = \"fabrikam.com\""),
            "{text}"
        );
        assert!(
            text.contains("[serve_api]\nclient_secret_file = \"/s\""),
            "{text}"
        );
        assert!(!text.contains("[profiles]\n"), "{text}");
        // The same edits again change nothing.
        assert!(
            !edit(
                &path,
                "default",
                &[Edit::Set("client_id", "new".into())],
                &[]
            )
            .unwrap()
        );
        // Removing keys of a profile that does not exist creates nothing.
        assert!(!edit(&path, "ghost", &[Edit::Remove("tenant")], &[]).unwrap());
        assert!(
            edit(
                &path,
                "default",
                &[Edit::Remove("client_id")],
                &[Edit::Remove("client_secret_file")]
            )
            .unwrap()
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("client_id") && !text.contains("ghost"),
            "{text}"
        );
    }

    #[test]
    fn a_missing_file_is_created_and_a_broken_one_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        assert!(edit(&path, "work", &[Edit::Set("tenant", "t".into())], &[]).unwrap());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[profiles.work]\ntenant = \"t\"\n"
        );
        let broken = dir.path().join("broken.toml");
        std::fs::write(&broken, "[profiles.x\n").unwrap();
        assert!(edit(&broken, "x", &[Edit::Set("tenant", "t".into())], &[]).is_err());
        assert_eq!(std::fs::read_to_string(&broken).unwrap(), "[profiles.x\n");
    }
}
