//! Pushed commits: what a `git push` adds to a repository, as a server-side
//! `pre-receive` hook sees it.
//!
//! Git hands the hook one `<old> <new> <ref>` line per updated ref and keeps
//! the pushed objects in a **quarantine** directory until the hook accepts
//! them: `GIT_OBJECT_DIRECTORY` (= `GIT_QUARANTINE_PATH`) holds the new
//! objects, `GIT_ALTERNATE_OBJECT_DIRECTORIES` the repository's own store.
//! gix 0.90 reads neither variable (docs/research-history-gix.md §3), so
//! [`PushOdb`] layers the quarantine over the repository's store itself.
//!
//! What is scanned: the commits not reachable from any existing ref
//! (`git rev-list <new>… --not --all`), their messages, and the blobs they
//! introduce: blobs in their trees that none of the *boundary* commits (the
//! parents outside the push) carries anywhere, so a rename or a move adds
//! nothing, while re-adding a file deleted long ago does count. This is the
//! same rule as `scan --range`, so a pull-request scan and the hook agree.
//!
//! Finding the new commits is cheap in the usual case: commits present only
//! in the quarantine are new by construction (refs point into the main store
//! and git keeps it closed under reachability); the walk stops at the first
//! commits the main store already has, and when each of those is the target
//! of an existing ref nothing more is needed. When they are older commits,
//! a walk down from the branch tips (newest first, bounded by date) usually
//! finds them (a branch created from `main~300`). Otherwise (a base only a
//! tag reaches, a deleted branch's leftovers, a run without a quarantine)
//! the exact `--not --all` walk runs: git's own algorithm, date-ordered, so
//! the hidden side is followed only as far back as the new commits reach.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::objs::{Exists, Find};
use rayon::prelude::*;

use crate::error::Error;
use crate::filter::glob_set;
use crate::finding::Provenance;
use crate::scan::{Collector, Scanner, SkipReason};
use crate::source::history::{COMMIT_IDENTITY_PATH, COMMIT_MESSAGE_PATH, identity_text};

/// One line of a pre-receive hook's input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefUpdate {
    pub old: ObjectId,
    pub new: ObjectId,
    /// Full ref name, e.g. `refs/heads/main`.
    pub name: String,
}

impl RefUpdate {
    /// The ref is deleted (`new` is all zeros): nothing to scan.
    pub fn is_delete(&self) -> bool {
        self.new.is_null()
    }

    /// The ref is created (`old` is all zeros).
    pub fn is_create(&self) -> bool {
        self.old.is_null()
    }
}

/// Parse every `<old-oid> SP <new-oid> SP <ref-name>` line (githooks(5)).
/// Blank lines are ignored; anything else malformed is an error (a guard
/// that cannot read its input must not wave the push through).
pub fn parse_updates(input: &str) -> Result<Vec<RefUpdate>, Error> {
    let mut out = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let mut parts = line.splitn(3, ' ');
        let (Some(old), Some(new), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::Usage(format!(
                "stdin line {}: expected `<old-oid> <new-oid> <ref>`",
                n + 1
            )));
        };
        let oid = |s: &str| {
            ObjectId::from_hex(s.as_bytes()).map_err(|_| {
                Error::Usage(format!("stdin line {}: `{s}` is not an object id", n + 1))
            })
        };
        out.push(RefUpdate {
            old: oid(old)?,
            new: oid(new)?,
            name: name.to_string(),
        });
    }
    Ok(out)
}

/// Parse the lines git gives a client-side `pre-push` hook:
/// `<local ref> SP <local oid> SP <remote ref> SP <remote oid>` (githooks(5)),
/// as updates of the remote ref from the remote's oid to the local one.
pub fn parse_pre_push(input: &str) -> Result<Vec<RefUpdate>, Error> {
    let mut out = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split(' ').collect();
        let [_, local, remote_ref, remote] = parts[..] else {
            return Err(Error::Usage(format!(
                "stdin line {}: expected `<local ref> <local oid> <remote ref> <remote oid>`",
                n + 1
            )));
        };
        let oid = |s: &str| {
            ObjectId::from_hex(s.as_bytes()).map_err(|_| {
                Error::Usage(format!("stdin line {}: `{s}` is not an object id", n + 1))
            })
        };
        out.push(RefUpdate {
            old: oid(remote)?,
            new: oid(local)?,
            name: remote_ref.to_string(),
        });
    }
    Ok(out)
}

/// What a remote is known to have, for a `pre-push` hook: the tips of its
/// remote-tracking refs (`refs/remotes/<remote>/…`; all remote-tracking refs
/// when it has none, e.g. a push to a URL) and the remote's current values
/// of the pushed refs.
pub fn remote_known(
    git_dir: &Path,
    remote: Option<&str>,
    updates: &[RefUpdate],
) -> Result<Vec<ObjectId>, Error> {
    let repo = open_repo(git_dir)?;
    let err = |e: gix::Error| Error::Scan(format!("cannot read refs: {e}"));
    let platform = repo.references().map_err(err)?;
    let mut all = Vec::new();
    let mut this = Vec::new();
    let prefix = remote.map(|r| format!("refs/remotes/{r}/"));
    for r in platform.remote_branches().map_err(err)? {
        let Ok(r) = r else { continue };
        let Some(id) = r.inner.target.try_id() else {
            continue;
        };
        all.push(id.to_owned());
        if prefix
            .as_deref()
            .is_some_and(|p| r.inner.name.as_bstr().starts_with(p.as_bytes()))
        {
            this.push(id.to_owned());
        }
    }
    let mut known = if this.is_empty() { all } else { this };
    known.extend(updates.iter().filter(|u| !u.is_create()).map(|u| u.old));
    known.sort();
    known.dedup();
    Ok(known)
}

/// Where the pushed objects are, from the hook's environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quarantine {
    /// The quarantine directory (new objects only).
    pub objects: Option<PathBuf>,
    /// Other object directories that hold existing objects (alternates).
    pub alternates: Vec<PathBuf>,
}

impl Quarantine {
    /// Read `GIT_QUARANTINE_PATH` / `GIT_OBJECT_DIRECTORY` and
    /// `GIT_ALTERNATE_OBJECT_DIRECTORIES`. Without `GIT_QUARANTINE_PATH`
    /// (git before 2.13, or a run outside a hook) there is no quarantine and
    /// `GIT_OBJECT_DIRECTORY`, if set, is simply where the objects are.
    pub fn from_env() -> Quarantine {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        // Without a quarantine (git before 2.13, or a run outside a hook),
        // an explicit object directory is the repository's store: existing
        // objects, read like an alternate.
        let objects = var("GIT_QUARANTINE_PATH");
        let mut alternates: Vec<PathBuf> = Vec::new();
        if objects.is_none()
            && let Some(dir) = var("GIT_OBJECT_DIRECTORY")
        {
            alternates.push(PathBuf::from(dir));
        }
        if let Some(list) = var("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
            alternates.extend(split_alternates(&list.to_string_lossy()));
        }
        Quarantine {
            objects: objects.map(PathBuf::from),
            alternates,
        }
    }
}

/// `GIT_ALTERNATE_OBJECT_DIRECTORIES`: `:`-separated; an entry in double
/// quotes is C-quoted (git quotes paths that contain `:` or `"`).
fn split_alternates(list: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut chars = list.chars().peekable();
    while chars.peek().is_some() {
        let mut item = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => {
                        if let Some(e) = chars.next() {
                            item.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                        }
                    }
                    c => item.push(c),
                }
            }
            // Skip to the separator.
            for c in chars.by_ref() {
                if c == ':' {
                    break;
                }
            }
        } else {
            for c in chars.by_ref() {
                if c == ':' {
                    break;
                }
                item.push(c);
            }
        }
        if !item.is_empty() {
            out.push(PathBuf::from(item));
        }
    }
    out
}

/// The repository's objects with the quarantine in front: objects are looked
/// up in the quarantine first, then in the existing stores.
pub struct PushOdb {
    quarantine: Vec<gix::odb::Handle>,
    existing: Vec<gix::odb::Handle>,
    main: gix::OdbHandle,
}

impl PushOdb {
    fn open(repo: &gix::Repository, q: &Quarantine) -> Result<PushOdb, Error> {
        let own = canonical(repo.objects.store_ref().path());
        let open = |dir: &Path| -> Result<gix::odb::Handle, Error> {
            let mut h = gix::odb::at(dir, repo.object_hash()).map_err(|e| {
                Error::Scan(format!(
                    "cannot open object directory {}: {e}",
                    dir.display()
                ))
            })?;
            // A miss is normal here (most lookups miss the quarantine);
            // never re-list the pack directory because of one.
            h.refresh_never();
            Ok(h)
        };
        let mut quarantine = Vec::new();
        if let Some(dir) = &q.objects
            && canonical(dir) != own
        {
            quarantine.push(open(dir)?);
        }
        let mut existing = Vec::new();
        for dir in &q.alternates {
            if canonical(dir) != own && dir.is_dir() {
                existing.push(open(dir)?);
            }
        }
        let mut main = repo.objects.clone();
        main.refresh_never();
        Ok(PushOdb {
            quarantine,
            existing,
            main,
        })
    }

    /// Whether the repository had this object before the push.
    fn existed(&self, id: &gix::oid) -> bool {
        self.main.exists(id) || self.existing.iter().any(|h| h.exists(id))
    }

    fn has_quarantine(&self) -> bool {
        !self.quarantine.is_empty()
    }

    /// The object's kind and size from its header, without inflating it
    /// (a pushed 1 GB blob is judged by its size alone).
    fn header(&self, id: &gix::oid) -> gix::Result<Option<gix::odb::find::Header>> {
        use gix::odb::Header;
        if let Some(h) = self.quarantine.iter().find(|h| h.exists(id)) {
            return h.try_header(id);
        }
        if let Some(h) = self.existing.iter().find(|h| h.exists(id)) {
            return h.try_header(id);
        }
        self.main.try_header(id)
    }
}

impl Find for PushOdb {
    fn try_find<'a>(
        &self,
        id: &gix::oid,
        buffer: &'a mut Vec<u8>,
    ) -> gix::Result<Option<gix::objs::Data<'a>>> {
        if let Some(h) = self.quarantine.iter().find(|h| h.exists(id)) {
            return h.try_find(id, buffer);
        }
        if let Some(h) = self.existing.iter().find(|h| h.exists(id)) {
            return h.try_find(id, buffer);
        }
        self.main.try_find(id, buffer)
    }
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A commit the push adds.
#[derive(Clone, Debug)]
pub struct NewCommit {
    pub id: ObjectId,
    /// The first pushed ref (in input order) that reaches it.
    pub git_ref: String,
    pub author: String,
    /// Author time, seconds since the epoch.
    pub time: i64,
    pub message: Vec<u8>,
    /// Author and committer as scanned ([`identity_text`]).
    pub identity: Vec<u8>,
    tree: ObjectId,
    parents: Vec<ObjectId>,
}

/// An annotated tag object the push adds (its message is scanned).
#[derive(Clone, Debug)]
pub struct NewTag {
    pub id: ObjectId,
    pub git_ref: String,
    pub tagger: String,
    pub time: i64,
    pub message: Vec<u8>,
}

/// The pseudo-path under which annotated tag messages are scanned.
pub const TAG_MESSAGE_PATH: &str = "<tag-message>";

/// A blob the push introduces, at the first (commit, path) that carries it.
#[derive(Clone, Debug)]
pub struct NewBlob {
    pub id: ObjectId,
    pub path: String,
    /// Index into [`PushPlan::commits`]; past its end, into
    /// [`PushPlan::ref_objects`] (a tree or blob a ref points at).
    pub commit: usize,
    /// In the tree of a tip being pushed (or the tip itself): the pushed
    /// state of the ref still carries it.
    pub at_head: bool,
}

/// A tree or a blob that a pushed ref points at directly (after peeling
/// annotated tags): `git push origin $BLOB:refs/tags/x`. It carries content
/// without any commit; its blobs are judged like a commit's.
#[derive(Clone, Debug)]
pub struct RefObject {
    pub id: ObjectId,
    pub kind: gix::objs::Kind,
    pub git_ref: String,
}

/// How [`plan`] found the new commits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FindMethod {
    /// Commits only the quarantine has, standing on ref tips.
    #[default]
    Quarantine,
    /// The same, standing on older commits of branches (found by a
    /// date-bounded walk down from the branch tips).
    QuarantineAndAncestry,
    /// `<new> --not --all`, hiding every ref.
    NotAll,
}

impl FindMethod {
    pub fn describe(self) -> &'static str {
        match self {
            FindMethod::Quarantine => "the quarantine walk",
            FindMethod::QuarantineAndAncestry => "the quarantine walk and an ancestry check",
            FindMethod::NotAll => "the full --not --all walk",
        }
    }
}

/// What a push adds, worked out before anything is scanned.
#[derive(Clone, Debug, Default)]
pub struct PushPlan {
    /// The git directory the plan was made for.
    pub git_dir: PathBuf,
    pub quarantine: Quarantine,
    /// New commits, parents before children.
    pub commits: Vec<NewCommit>,
    /// New annotated tag objects.
    pub tags: Vec<NewTag>,
    pub blobs: Vec<NewBlob>,
    /// Trees and blobs pushed refs point at directly.
    pub ref_objects: Vec<RefObject>,
    /// Submodule entries (gitlinks) in new trees: counted, never followed.
    pub gitlinks: u64,
    /// How the new commits were found.
    pub method: FindMethod,
    /// More new commits than `max_commits`: the plan is incomplete.
    pub over_limit: bool,
    /// Objects the push needs that could not be read (a scan error).
    pub problems: Vec<String>,
    /// Refs deleted by the push (nothing to scan).
    pub deleted: Vec<String>,
    /// Where the planning time went (step, milliseconds), for `--verbose`.
    pub timings: Vec<(&'static str, u64)>,
}

/// Open the repository at `git_dir` as a hook sees it.
fn open_repo(git_dir: &Path) -> Result<gix::Repository, Error> {
    super::open_repo(git_dir).map_err(|e| {
        Error::Scan(format!(
            "{} is not a git repository: {e}",
            git_dir.display()
        ))
    })
}

/// Work out what `updates` add to the repository at `git_dir` (the objects
/// read through `quarantine`). `max_commits` (0: no limit) stops the walk
/// early and marks the plan [`PushPlan::over_limit`].
pub fn plan(
    git_dir: &Path,
    quarantine: &Quarantine,
    updates: &[RefUpdate],
    max_commits: usize,
) -> Result<PushPlan, Error> {
    plan_with(git_dir, quarantine, updates, max_commits, None)
}

/// Like [`plan`] for the client side (a `pre-push` hook): the new commits
/// are those not reachable from `known` (the remote-tracking refs and the
/// remote's current values), with no quarantine involved.
pub fn plan_against(
    git_dir: &Path,
    updates: &[RefUpdate],
    known: &[ObjectId],
    max_commits: usize,
) -> Result<PushPlan, Error> {
    plan_with(
        git_dir,
        &Quarantine::default(),
        updates,
        max_commits,
        Some(known),
    )
}

fn plan_with(
    git_dir: &Path,
    quarantine: &Quarantine,
    updates: &[RefUpdate],
    max_commits: usize,
    known: Option<&[ObjectId]>,
) -> Result<PushPlan, Error> {
    let started = std::time::Instant::now();
    let mut lap = started;
    let mut timings: Vec<(&'static str, u64)> = Vec::new();
    let mut mark = |step: &'static str| {
        let now = std::time::Instant::now();
        timings.push((step, (now - lap).as_millis() as u64));
        lap = now;
    };
    let repo = open_repo(git_dir)?;
    let odb = PushOdb::open(&repo, quarantine)?;
    let mut plan = PushPlan {
        git_dir: git_dir.to_path_buf(),
        quarantine: quarantine.clone(),
        ..PushPlan::default()
    };
    let mut tips: Vec<(ObjectId, &str)> = Vec::new();
    for u in updates {
        if u.is_delete() {
            plan.deleted.push(u.name.clone());
            continue;
        }
        if odb.has_quarantine() {
            new_tags(&odb, u, &mut plan.tags, true);
        } else if known.is_some() && u.old != u.new {
            // pre-push: the local store has every object, so "new" cannot be
            // told per object; the tags of a ref that changes are sent.
            new_tags(&odb, u, &mut plan.tags, false);
        }
        match peel(&odb, u.new) {
            Ok((c, gix::objs::Kind::Commit)) => tips.push((c, &u.name)),
            // A ref to a tree or a blob (or a tag of one): content without
            // a commit, judged all the same.
            Ok((id, kind)) => plan.ref_objects.push(RefObject {
                id,
                kind,
                git_ref: u.name.clone(),
            }),
            Err(msg) => plan.problems.push(format!("{}: {msg}", u.name)),
        }
    }
    if tips.is_empty() && plan.ref_objects.is_empty() {
        return Ok(plan);
    }
    let limit = if max_commits == 0 {
        usize::MAX
    } else {
        max_commits
    };

    // Fast path: walk through commits only the quarantine has.
    mark("open");
    let ref_tips = match known {
        None => RefTips::read(&repo, updates)?,
        Some(_) => RefTips::default(),
    };
    mark("read refs");
    let mut found: Vec<(ObjectId, usize)> = Vec::new(); // (commit, tip index)
    let mut method = if odb.has_quarantine() && known.is_none() {
        FindMethod::Quarantine
    } else {
        FindMethod::NotAll
    };
    if method == FindMethod::Quarantine {
        let mut seen: gix::hashtable::HashSet<ObjectId> = Default::default();
        // Existing commits the new ones stand on that no ref points at.
        let mut frontier: gix::hashtable::HashSet<ObjectId> = Default::default();
        'tips: for (ti, (tip, _)) in tips.iter().enumerate() {
            let mut stack = vec![*tip];
            let mut buf = Vec::new();
            while let Some(id) = stack.pop() {
                if !seen.insert(id) {
                    continue;
                }
                if odb.existed(&id) {
                    if !ref_tips.direct.contains(&id) {
                        frontier.insert(id);
                    }
                    continue;
                }
                match odb.try_find(&id, &mut buf) {
                    Ok(Some(d)) if d.kind == gix::objs::Kind::Commit => {
                        let c = gix::objs::CommitRef::from_bytes(d.data, repo.object_hash())
                            .map_err(|e| Error::Scan(format!("cannot parse commit {id}: {e}")))?;
                        stack.extend(c.parents());
                        found.push((id, ti));
                        if found.len() > limit {
                            plan.over_limit = true;
                            break 'tips;
                        }
                    }
                    Ok(_) => plan.problems.push(format!("missing commit {id}")),
                    Err(e) => plan.problems.push(format!("cannot read commit {id}: {e}")),
                }
            }
        }
        mark("quarantine walk");
        if !frontier.is_empty() && !plan.over_limit {
            // Typically a branch made from an older commit of a branch:
            // look for it below the branch tips, newest commits first.
            if ancestry_check(&odb, &ref_tips.branches, &frontier) {
                method = FindMethod::QuarantineAndAncestry;
            } else {
                found.clear();
                method = FindMethod::NotAll;
            }
            mark("ancestry check");
        }
    }
    if method == FindMethod::NotAll && !plan.over_limit {
        // Exact: `<tips> --not --all`, per tip so each commit is attributed
        // to the first ref (in input order) that reaches it.
        let hidden: Vec<ObjectId> = match known {
            None => ref_tips.direct.iter().copied().collect(),
            Some(ids) => ids.to_vec(),
        };
        let tip_ids: Vec<ObjectId> = tips.iter().map(|(t, _)| *t).collect();
        match not_all(&odb, &tip_ids, &hidden, limit) {
            NotAll::New(new, problems) => {
                plan.problems.extend(problems);
                // Attribute each new commit to the first tip (in input order) reaching it.
                let mut seen: gix::hashtable::HashSet<ObjectId> = Default::default();
                for (ti, (tip, _)) in tips.iter().enumerate() {
                    let mut stack = vec![*tip];
                    while let Some(id) = stack.pop() {
                        let Some(parents) = new.get(&id) else {
                            continue;
                        };
                        if seen.insert(id) {
                            found.push((id, ti));
                            stack.extend(parents.iter().copied());
                        }
                    }
                }
            }
            NotAll::OverLimit => plan.over_limit = true,
        }
        mark("--not --all walk");
    }
    plan.method = method;
    if plan.over_limit {
        return Ok(plan);
    }

    // Read the new commits.
    let mut buf = Vec::new();
    let mut commits: Vec<NewCommit> = Vec::with_capacity(found.len());
    for (id, ti) in &found {
        let data = match odb.try_find(id, &mut buf) {
            Ok(Some(d)) if d.kind == gix::objs::Kind::Commit => d,
            Ok(_) => {
                plan.problems.push(format!("missing commit {id}"));
                continue;
            }
            Err(e) => {
                plan.problems.push(format!("cannot read commit {id}: {e}"));
                continue;
            }
        };
        let c = gix::objs::CommitRef::from_bytes(data.data, repo.object_hash())
            .map_err(|e| Error::Scan(format!("cannot parse commit {id}: {e}")))?;
        let author_sig = c.author().ok();
        let (author, time) = match author_sig {
            Some(sig) => (format!("{} <{}>", sig.name, sig.email), sig.seconds()),
            None => ("<unparsable author>".to_string(), 0),
        };
        let sig_parts = |s: Option<gix::actor::SignatureRef<'_>>| {
            s.map_or((Vec::new(), Vec::new()), |s| {
                (s.name.to_vec(), s.email.to_vec())
            })
        };
        let (an, ae) = sig_parts(author_sig);
        let (cn, ce) = sig_parts(c.committer().ok());
        let identity = identity_text((&an, &ae), (&cn, &ce));
        commits.push(NewCommit {
            id: *id,
            git_ref: tips[*ti].1.to_string(),
            author,
            time,
            message: c.message.to_vec(),
            identity,
            tree: c.tree(),
            parents: c.parents().collect(),
        });
    }
    let commits = topological(commits);

    // Boundary: parents outside the push. Their content is known.
    let new_set: gix::hashtable::HashSet<ObjectId> = commits.iter().map(|c| c.id).collect();
    let mut boundary: Vec<ObjectId> = commits
        .iter()
        .flat_map(|c| c.parents.iter().copied())
        .filter(|p| !new_set.contains(p))
        .collect();
    boundary.sort();
    boundary.dedup();
    let mut walker = TreeWalker::new(&odb, repo.object_hash());
    for b in &boundary {
        match odb.try_find(b, &mut buf) {
            Ok(Some(d)) if d.kind == gix::objs::Kind::Commit => {
                match gix::objs::CommitRef::from_bytes(d.data, repo.object_hash()) {
                    Ok(c) => walker.walk(c.tree(), None),
                    Err(e) => walker
                        .problems
                        .push(format!("cannot parse commit {b}: {e}")),
                }
            }
            // A shallow repository lacks the boundary: its content counts as new.
            Ok(_) if is_shallow_boundary(&repo, b) => {}
            Ok(_) => walker.problems.push(format!("missing commit {b}")),
            Err(e) => walker.problems.push(format!("cannot read commit {b}: {e}")),
        }
    }
    for (ci, c) in commits.iter().enumerate() {
        walker.walk(c.tree, Some(ci));
    }
    // Trees and blobs refs point at: after the commits, so what a commit
    // already brought keeps that commit as its provenance.
    for (k, o) in plan.ref_objects.iter().enumerate() {
        let ci = commits.len() + k;
        if o.kind == gix::objs::Kind::Tree {
            walker.walk(o.id, Some(ci));
        } else if walker.blobs.insert(o.id) {
            walker.new_blobs.push(NewBlob {
                id: o.id,
                path: o.git_ref.clone(),
                commit: ci,
                at_head: true,
            });
        }
    }
    // At the tip: the blobs of each pushed tip commit's tree (the state
    // the ref will have). Only trees this push added can hold a new blob,
    // so only they are read again.
    let new_set_tips: Vec<ObjectId> = tips
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| new_set.contains(t))
        .collect();
    let mut at_tip: gix::hashtable::HashSet<ObjectId> = Default::default();
    for t in &new_set_tips {
        if let Some(c) = commits.iter().find(|c| c.id == *t) {
            walker.blobs_under(c.tree, &mut at_tip);
        }
    }
    for b in &mut walker.new_blobs {
        let tree_tip = b.commit >= commits.len();
        b.at_head = tree_tip || b.at_head || at_tip.contains(&b.id);
    }
    mark("trees");
    plan.timings = timings;
    plan.blobs = std::mem::take(&mut walker.new_blobs);
    plan.gitlinks = walker.gitlinks;
    plan.problems.append(&mut walker.problems);
    plan.commits = commits;
    Ok(plan)
}

fn is_shallow_boundary(repo: &gix::Repository, id: &ObjectId) -> bool {
    matches!(repo.shallow_commits(), Ok(Some(list)) if list.iter().any(|c| c == id))
        || repo.is_shallow().unwrap_or(false)
}

/// The annotated tag objects of `u.new`'s tag chain (with `only_new`,
/// those the repository did not have before the push).
fn new_tags(odb: &PushOdb, u: &RefUpdate, out: &mut Vec<NewTag>, only_new: bool) {
    let mut id = u.new;
    let mut buf = Vec::new();
    for _ in 0..32 {
        if only_new && odb.existed(&id) {
            return;
        }
        let Ok(Some(d)) = odb.try_find(&id, &mut buf) else {
            return;
        };
        if d.kind != gix::objs::Kind::Tag {
            return;
        }
        let Ok(tag) = gix::objs::TagRef::from_bytes(d.data, gix::hash::Kind::Sha1) else {
            return;
        };
        let (tagger, time) = match tag.tagger() {
            Ok(Some(sig)) => (format!("{} <{}>", sig.name, sig.email), sig.seconds()),
            _ => (String::new(), 0),
        };
        if !out.iter().any(|t| t.id == id) {
            out.push(NewTag {
                id,
                git_ref: u.name.clone(),
                tagger,
                time,
                message: tag.message.to_vec(),
            });
        }
        id = tag.target();
    }
}

/// Peel an annotated tag chain to the object it ends at, and its kind.
fn peel(odb: &PushOdb, mut id: ObjectId) -> Result<(ObjectId, gix::objs::Kind), String> {
    let mut buf = Vec::new();
    for _ in 0..32 {
        match odb.try_find(&id, &mut buf) {
            Ok(Some(d)) => match d.kind {
                gix::objs::Kind::Tag => {
                    let tag = gix::objs::TagRefIter::from_bytes(d.data, gix::hash::Kind::Sha1)
                        .target_id()
                        .map_err(|e| format!("cannot parse tag {id}: {e}"))?;
                    id = tag;
                }
                kind => return Ok((id, kind)),
            },
            Ok(None) => return Err(format!("missing object {id}")),
            Err(e) => return Err(format!("cannot read object {id}: {e}")),
        }
    }
    Err(format!("tag chain too long at {id}"))
}

/// The ids existing refs point at, before the push.
#[derive(Default)]
struct RefTips {
    /// Direct targets and, for packed annotated tags, their peeled commits.
    direct: gix::hashtable::HashSet<ObjectId>,
    /// Tips of local branches, HEAD, and the old values of the updated refs:
    /// where a new branch usually starts from.
    branches: Vec<ObjectId>,
}

impl RefTips {
    fn read(repo: &gix::Repository, updates: &[RefUpdate]) -> Result<RefTips, Error> {
        let err = |e: gix::Error| Error::Scan(format!("cannot read refs: {e}"));
        let platform = repo.references().map_err(err)?;
        let mut direct: gix::hashtable::HashSet<ObjectId> = Default::default();
        let mut branches: Vec<ObjectId> = Vec::new();
        for r in platform.all().map_err(err)? {
            let Ok(r) = r else { continue };
            if let Some(id) = r.inner.target.try_id() {
                direct.insert(id.to_owned());
                if r.inner.name.as_bstr().starts_with(b"refs/heads/") {
                    branches.push(id.to_owned());
                }
            }
            if let Some(p) = r.inner.peeled {
                direct.insert(p);
            }
        }
        if let Ok(head) = repo.head_id() {
            branches.push(head.detach());
        }
        branches.extend(updates.iter().filter(|u| !u.is_create()).map(|u| u.old));
        branches.sort();
        branches.dedup();
        Ok(RefTips { direct, branches })
    }
}

/// Commits the ancestry check may visit before giving up (then the exact
/// walk decides).
const ANCESTRY_BUDGET: usize = 50_000;
/// Clock skew tolerated below the oldest target's commit time.
const ANCESTRY_SLACK_SECS: i64 = 86_400;

/// Whether every commit of `targets` is an ancestor of one of `tips`:
/// a walk newest-first (by committer time) that stops below the oldest
/// target's time (minus a day for clock skew) or after
/// [`ANCESTRY_BUDGET`] commits. `false` only means "not found cheaply".
fn ancestry_check(
    odb: &PushOdb,
    tips: &[ObjectId],
    targets: &gix::hashtable::HashSet<ObjectId>,
) -> bool {
    use std::collections::BinaryHeap;
    let mut buf = Vec::new();
    let mut read = |id: &ObjectId| -> Option<(i64, Vec<ObjectId>)> {
        match odb.try_find(id, &mut buf) {
            Ok(Some(d)) if d.kind == gix::objs::Kind::Commit => {
                let c = gix::objs::CommitRef::from_bytes(d.data, gix::hash::Kind::Sha1).ok()?;
                let time = c.committer().ok()?.seconds();
                Some((time, c.parents().collect()))
            }
            _ => None,
        }
    };
    let mut oldest = i64::MAX;
    for t in targets {
        match read(t) {
            Some((time, _)) => oldest = oldest.min(time),
            None => return false,
        }
    }
    let cutoff = oldest.saturating_sub(ANCESTRY_SLACK_SECS);
    let mut heap: BinaryHeap<(i64, ObjectId)> = BinaryHeap::new();
    let mut seen: gix::hashtable::HashSet<ObjectId> = Default::default();
    let mut parents: gix::hashtable::HashMap<ObjectId, Vec<ObjectId>> = Default::default();
    for t in tips {
        if seen.insert(*t)
            && let Some((time, p)) = read(t)
        {
            heap.push((time, *t));
            parents.insert(*t, p);
        }
    }
    let mut missing = targets.len();
    let mut visited = 0usize;
    while let Some((time, id)) = heap.pop() {
        if time < cutoff || visited >= ANCESTRY_BUDGET {
            break;
        }
        visited += 1;
        if targets.contains(&id) {
            missing -= 1;
            if missing == 0 {
                return true;
            }
        }
        for p in parents.remove(&id).unwrap_or_default() {
            if seen.insert(p)
                && let Some((t, pp)) = read(&p)
            {
                heap.push((t, p));
                parents.insert(p, pp);
            }
        }
    }
    false
}

/// What [`not_all`] found.
enum NotAll {
    /// The new commits with their parents, and objects that could not be read.
    New(
        gix::hashtable::HashMap<ObjectId, Vec<ObjectId>>,
        Vec<String>,
    ),
    OverLimit,
}

/// `git rev-list <tips> --not <hidden>`, the way git does it: commits in
/// committer-date order, newest first, each carrying whether a new tip
/// and/or a hidden tip reaches it, the marks passed on to parents, until no
/// commit marked only "new" is left and the rest is older than the oldest
/// new commit (minus [`ANCESTRY_SLACK_SECS`] of clock skew). Each commit and
/// each hidden tip is decoded once; hidden annotated tags are peeled on the
/// way. Unlike a walk that hides every ref's whole history, the hidden side
/// is only followed as far back as the new commits reach.
fn not_all(odb: &PushOdb, tips: &[ObjectId], hidden: &[ObjectId], limit: usize) -> NotAll {
    use std::collections::BinaryHeap;
    const NEW: u8 = 1;
    const HIDDEN: u8 = 2;
    struct Node {
        flags: u8,
        done: u8,
        time: i64,
        parents: Vec<ObjectId>,
    }
    struct Walk<'a> {
        odb: &'a PushOdb,
        nodes: gix::hashtable::HashMap<ObjectId, Node>,
        heap: BinaryHeap<(i64, ObjectId)>,
        /// Nodes marked only NEW and not yet processed with that mark.
        pending: usize,
        buf: Vec<u8>,
        problems: Vec<String>,
    }
    impl Walk<'_> {
        /// Mark commit `id` (a tag is peeled first when `peel`).
        fn add(&mut self, mut id: ObjectId, flags: u8, peel: bool) {
            if !self.nodes.contains_key(&id) {
                let mut depth = 0;
                let node = loop {
                    match self.odb.try_find(&id, &mut self.buf) {
                        Ok(Some(d)) if d.kind == gix::objs::Kind::Commit => {
                            match gix::objs::CommitRef::from_bytes(d.data, gix::hash::Kind::Sha1) {
                                Ok(c) => {
                                    break Node {
                                        flags: 0,
                                        done: 0,
                                        time: c.committer().map(|s| s.seconds()).unwrap_or(0),
                                        parents: c.parents().collect(),
                                    };
                                }
                                Err(e) => {
                                    if flags == NEW {
                                        self.problems
                                            .push(format!("cannot parse commit {id}: {e}"));
                                    }
                                    return;
                                }
                            }
                        }
                        Ok(Some(d)) if peel && d.kind == gix::objs::Kind::Tag && depth < 32 => {
                            match gix::objs::TagRefIter::from_bytes(d.data, gix::hash::Kind::Sha1)
                                .target_id()
                            {
                                Ok(t) => {
                                    id = t;
                                    depth += 1;
                                    if self.nodes.contains_key(&id) {
                                        break Node {
                                            flags: 0,
                                            done: 0,
                                            time: 0,
                                            parents: Vec::new(),
                                        };
                                    }
                                }
                                Err(_) => return,
                            }
                        }
                        // Trees, blobs: nothing to walk.
                        Ok(Some(_)) => return,
                        // A missing hidden commit hides nothing; a missing new one is a problem.
                        Ok(None) => {
                            if flags == NEW {
                                self.problems.push(format!("missing commit {id}"));
                            }
                            return;
                        }
                        Err(e) => {
                            if flags == NEW {
                                self.problems.push(format!("cannot read commit {id}: {e}"));
                            }
                            return;
                        }
                    }
                };
                self.nodes.entry(id).or_insert(node);
            }
            let Some(n) = self.nodes.get_mut(&id) else {
                return;
            };
            let old = n.flags;
            n.flags |= flags;
            if n.flags == old {
                return;
            }
            let was_pending = old == NEW && n.done != NEW;
            let is_pending = n.flags == NEW && n.done != NEW;
            self.pending = self.pending + usize::from(is_pending) - usize::from(was_pending);
            self.heap.push((n.time, id));
        }
    }
    let mut w = Walk {
        odb,
        nodes: Default::default(),
        heap: BinaryHeap::new(),
        pending: 0,
        buf: Vec::new(),
        problems: Vec::new(),
    };
    for h in hidden {
        w.add(*h, HIDDEN, true);
    }
    for t in tips {
        w.add(*t, NEW, false);
    }
    let mut oldest_new = i64::MAX;
    let mut new_count = 0usize;
    while let Some((time, id)) = w.heap.pop() {
        if w.pending == 0 && time < oldest_new.saturating_sub(ANCESTRY_SLACK_SECS) {
            break;
        }
        let Some(n) = w.nodes.get_mut(&id) else {
            continue;
        };
        if n.done == n.flags {
            continue; // a stale heap entry
        }
        let flags = n.flags;
        if flags == NEW {
            w.pending -= 1;
            oldest_new = oldest_new.min(time);
            new_count += 1;
            if new_count > limit {
                return NotAll::OverLimit;
            }
        }
        n.done = flags;
        // Hidden wins: its parents only need to know they are hidden.
        let pass = if flags & HIDDEN != 0 { HIDDEN } else { NEW };
        let parents = n.parents.clone();
        for p in parents {
            w.add(p, pass, false);
        }
    }
    let new = w
        .nodes
        .into_iter()
        .filter(|(_, n)| n.flags == NEW)
        .map(|(id, n)| (id, n.parents))
        .collect();
    NotAll::New(new, w.problems)
}

/// Parents before children; among commits ready at the same time, the
/// oldest first (so "first introduced" means earliest).
fn topological(commits: Vec<NewCommit>) -> Vec<NewCommit> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let index: gix::hashtable::HashMap<ObjectId, usize> =
        commits.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let n = commits.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indeg = vec![0usize; n];
    for (i, c) in commits.iter().enumerate() {
        for p in &c.parents {
            if let Some(&pi) = index.get(p) {
                children[pi].push(i);
                indeg[i] += 1;
            }
        }
    }
    let mut heap: BinaryHeap<Reverse<(i64, ObjectId, usize)>> = (0..n)
        .filter(|&i| indeg[i] == 0)
        .map(|i| Reverse((commits[i].time, commits[i].id, i)))
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse((_, _, i))) = heap.pop() {
        order.push(i);
        for &ch in &children[i] {
            indeg[ch] -= 1;
            if indeg[ch] == 0 {
                heap.push(Reverse((commits[ch].time, commits[ch].id, ch)));
            }
        }
    }
    let mut slots: Vec<Option<NewCommit>> = commits.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Visits each tree once; the first tree that names a blob not seen before
/// records it (with its path) for the commit being walked.
struct TreeWalker<'a> {
    odb: &'a PushOdb,
    hash: gix::hash::Kind,
    trees: gix::hashtable::HashSet<ObjectId>,
    /// Trees first seen under a new commit (not known from the boundary).
    new_trees: gix::hashtable::HashSet<ObjectId>,
    blobs: gix::hashtable::HashSet<ObjectId>,
    new_blobs: Vec<NewBlob>,
    gitlinks: u64,
    problems: Vec<String>,
    buf: Vec<u8>,
}

impl<'a> TreeWalker<'a> {
    fn new(odb: &'a PushOdb, hash: gix::hash::Kind) -> TreeWalker<'a> {
        TreeWalker {
            odb,
            hash,
            trees: Default::default(),
            new_trees: Default::default(),
            blobs: Default::default(),
            new_blobs: Vec::new(),
            gitlinks: 0,
            problems: Vec::new(),
            buf: Vec::new(),
        }
    }

    /// Walk `root`; `commit` None seeds (marks known, records nothing).
    /// An explicit stack: hostile nesting cannot overflow the call stack.
    fn walk(&mut self, root: ObjectId, commit: Option<usize>) {
        let mut stack: Vec<(ObjectId, String)> = vec![(root, String::new())];
        while let Some((tree, prefix)) = stack.pop() {
            if !self.trees.insert(tree) {
                continue;
            }
            if commit.is_some() {
                self.new_trees.insert(tree);
            }
            let data = match self.odb.try_find(&tree, &mut self.buf) {
                Ok(Some(d)) if d.kind == gix::objs::Kind::Tree => d,
                Ok(Some(d)) => {
                    self.problems.push(format!(
                        "object {tree} at `{prefix}` is a {}, not a tree",
                        d.kind
                    ));
                    continue;
                }
                Ok(None) => {
                    self.problems
                        .push(format!("missing tree {tree} at `{prefix}`"));
                    continue;
                }
                Err(e) => {
                    self.problems.push(format!("cannot read tree {tree}: {e}"));
                    continue;
                }
            };
            for entry in gix::objs::TreeRefIter::from_bytes(data.data, self.hash) {
                let e = match entry {
                    Ok(e) => e,
                    Err(err) => {
                        self.problems
                            .push(format!("cannot parse tree {tree}: {err}"));
                        break;
                    }
                };
                if e.mode.is_commit() {
                    if commit.is_some() {
                        self.gitlinks += 1;
                    }
                    continue;
                }
                let oid = e.oid.to_owned();
                let name = crate::sanitize::path_from_bytes(e.filename.as_ref());
                if e.mode.is_tree() {
                    if !self.trees.contains(&oid) {
                        stack.push((oid, format!("{prefix}{name}/")));
                    }
                } else if self.blobs.insert(oid)
                    && let Some(ci) = commit
                {
                    self.new_blobs.push(NewBlob {
                        id: oid,
                        path: format!("{prefix}{name}"),
                        commit: ci,
                        at_head: false,
                    });
                }
            }
        }
    }

    /// Add to `out` the blobs under `root` that sit in trees this push
    /// added (the only places a new blob can be). Read errors were
    /// reported by [`TreeWalker::walk`] already.
    fn blobs_under(&mut self, root: ObjectId, out: &mut gix::hashtable::HashSet<ObjectId>) {
        let mut stack = vec![root];
        let mut done: gix::hashtable::HashSet<ObjectId> = Default::default();
        while let Some(tree) = stack.pop() {
            if !self.new_trees.contains(&tree) || !done.insert(tree) {
                continue;
            }
            let Ok(Some(data)) = self.odb.try_find(&tree, &mut self.buf) else {
                continue;
            };
            if data.kind != gix::objs::Kind::Tree {
                continue;
            }
            for e in gix::objs::TreeRefIter::from_bytes(data.data, self.hash).flatten() {
                if e.mode.is_tree() {
                    stack.push(e.oid.to_owned());
                } else if !e.mode.is_commit() {
                    out.insert(e.oid.to_owned());
                }
            }
        }
    }
}

/// Blobs read per batch before they are scanned in parallel.
const BATCH_BYTES: usize = 64 << 20;

/// Scan what `plan` found: the new commits' messages and the blobs they
/// introduce, each with the commit and ref that brought it.
pub fn scan(plan: &PushPlan, scanner: &Scanner, collector: &Collector) -> Result<(), Error> {
    for p in &plan.problems {
        collector.error("<push>", p.clone());
    }
    collector.with_stats(|s| s.commits_scanned = Some(plan.commits.len() as u64));
    for _ in 0..plan.gitlinks {
        collector.skip(SkipReason::Submodule);
    }
    let provenance = |ci: usize| match plan.commits.get(ci) {
        Some(c) => Provenance {
            commit: c.id.to_string(),
            author: c.author.clone(),
            date: crate::time::rfc3339(c.time),
            occurrences: 0,
            at_head: false,
            git_ref: Some(c.git_ref.clone()),
        },
        // A tree or blob a ref points at: named after the object.
        None => {
            let o = &plan.ref_objects[ci - plan.commits.len()];
            Provenance {
                commit: o.id.to_string(),
                author: format!("<{} pointed to by a ref>", o.kind),
                date: String::new(),
                occurrences: 0,
                at_head: true,
                git_ref: Some(o.git_ref.clone()),
            }
        }
    };
    let blob_provenance = |b: &NewBlob| {
        let mut p = provenance(b.commit);
        p.at_head = b.at_head;
        p
    };
    plan.commits
        .par_iter()
        .enumerate()
        .filter(|(_, c)| !c.message.is_empty())
        .for_each(|(ci, c)| {
            let outcome = scanner.scan_blob(COMMIT_MESSAGE_PATH, &c.message);
            collector.add(
                COMMIT_MESSAGE_PATH,
                c.message.len() as u64,
                outcome,
                Some(&provenance(ci)),
            );
        });
    // Each distinct identity once, with the first commit that carries it.
    let mut seen_identities = std::collections::HashSet::new();
    let identities: Vec<usize> = (0..plan.commits.len())
        .filter(|&ci| seen_identities.insert(&plan.commits[ci].identity))
        .collect();
    identities.par_iter().for_each(|&ci| {
        let text = &plan.commits[ci].identity;
        let outcome = scanner.scan_blob(COMMIT_IDENTITY_PATH, text);
        collector.add(
            COMMIT_IDENTITY_PATH,
            text.len() as u64,
            outcome,
            Some(&provenance(ci)),
        );
    });
    plan.tags.iter().for_each(|t| {
        let p = Provenance {
            commit: t.id.to_string(),
            author: t.tagger.clone(),
            date: crate::time::rfc3339(t.time),
            occurrences: 0,
            at_head: false,
            git_ref: Some(t.git_ref.clone()),
        };
        if !t.message.is_empty() {
            let outcome = scanner.scan_blob(TAG_MESSAGE_PATH, &t.message);
            collector.add(TAG_MESSAGE_PATH, t.message.len() as u64, outcome, Some(&p));
        }
        // The tagger, like a commit's author and committer.
        let identity = format!("tagger: {}\n", t.tagger);
        let outcome = scanner.scan_blob(COMMIT_IDENTITY_PATH, identity.as_bytes());
        collector.add(
            COMMIT_IDENTITY_PATH,
            identity.len() as u64,
            outcome,
            Some(&p),
        );
    });
    if plan.blobs.is_empty() {
        return Ok(());
    }
    let excludes = glob_set(&scanner.options.exclude)?;
    let repo = open_repo(&plan.git_dir)?;
    let odb = PushOdb::open(&repo, &plan.quarantine)?;
    let mut batch: Vec<(&NewBlob, Vec<u8>)> = Vec::new();
    let mut batch_bytes = 0usize;
    let flush = |batch: &mut Vec<(&NewBlob, Vec<u8>)>| {
        batch.par_iter().for_each(|(b, bytes)| {
            let outcome = scanner.scan_blob(&b.path, bytes);
            collector.add(
                &b.path,
                bytes.len() as u64,
                outcome,
                Some(&blob_provenance(b)),
            );
        });
        batch.clear();
    };
    for b in &plan.blobs {
        if !excludes.is_empty() && excludes.is_match(&b.path) {
            collector.skip(SkipReason::Excluded);
            continue;
        }
        if let Ok(Some(h)) = odb.header(&b.id)
            && h.kind() == gix::objs::Kind::Blob
            && h.size() > scanner.options.max_file_size
        {
            collector.too_large(scanner, &b.path, h.size());
            continue;
        }
        let mut buf = Vec::new();
        match odb.try_find(&b.id, &mut buf) {
            Ok(Some(d)) if d.kind == gix::objs::Kind::Blob => {
                if d.data.len() as u64 > scanner.options.max_file_size {
                    collector.too_large(scanner, &b.path, d.data.len() as u64);
                    continue;
                }
                let len = d.data.len();
                // `buf` holds the object's bytes (the data borrows it).
                buf.truncate(len);
                batch_bytes += len;
                batch.push((b, buf));
            }
            Ok(Some(d)) => collector.error(
                b.path.clone(),
                format!("object {} is a {}, not a blob", b.id, d.kind),
            ),
            Ok(None) => collector.error(b.path.clone(), format!("missing blob {}", b.id)),
            Err(e) => collector.error(b.path.clone(), format!("cannot read blob {}: {e}", b.id)),
        }
        if batch_bytes >= BATCH_BYTES {
            flush(&mut batch);
            batch_bytes = 0;
        }
    }
    flush(&mut batch);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn parses_every_line() {
        let u = parse_updates(&format!(
            "{Z} {A} refs/heads/new\n{A} {Z} refs/heads/gone\n\n{A} {A} refs/tags/v 1\n"
        ))
        .unwrap();
        assert_eq!(u.len(), 3);
        assert!(u[0].is_create() && !u[0].is_delete());
        assert!(u[1].is_delete());
        assert_eq!(u[2].name, "refs/tags/v 1");
    }

    #[test]
    fn parses_pre_push_lines() {
        let u = parse_pre_push(&format!(
            "refs/heads/main {A} refs/heads/main {Z}\n(delete) {Z} refs/heads/old {A}\n"
        ))
        .unwrap();
        assert_eq!(u.len(), 2);
        assert!(u[0].is_create() && u[0].name == "refs/heads/main");
        assert!(u[1].is_delete());
        assert!(parse_pre_push(&format!("{A} {A} refs/heads/x\n")).is_err());
    }

    #[test]
    fn rejects_malformed_lines() {
        assert!(parse_updates("nonsense\n").is_err());
        assert!(parse_updates(&format!("xyz {A} refs/heads/x\n")).is_err());
        assert!(parse_updates(&format!("{A} {A}\n")).is_err());
    }

    #[test]
    fn alternates_are_split_and_unquoted() {
        assert_eq!(
            split_alternates("/a/objects:\"/b:c/objects\":/d"),
            vec![
                PathBuf::from("/a/objects"),
                PathBuf::from("/b:c/objects"),
                PathBuf::from("/d")
            ]
        );
        assert!(split_alternates("").is_empty());
    }
}
