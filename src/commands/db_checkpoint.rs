//! `porttrack db checkpoint`: fold the write-ahead log into porting.db, so
//! the file alone (what git commits) holds every change.

use serde::Serialize;

use super::Ctx;

#[derive(Serialize)]
struct Checkpointed {
    database: String,
}

pub fn run(ctx: &Ctx) -> anyhow::Result<i32> {
    let db = ctx.open_db()?;
    db.checkpoint()?;
    let out = Checkpointed { database: db.path().display().to_string() };
    ctx.emit("db checkpoint", &out, |c| format!("{}: every change is in the file\n", c.database))
}
