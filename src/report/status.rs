//! `miglint status` as text (its JSON is the rows themselves).

use crate::outcome::SetStatus;

/// One block per set, aligned labels.
pub fn render_human(rows: &[SetStatus]) -> String {
    let mut s = String::new();
    for r in rows {
        let pending = if r.pending.is_empty() {
            "none".to_string()
        } else {
            r.pending.join(", ")
        };
        s.push_str(&format!("set {} ({})\n", r.set, r.dir));
        s.push_str(&format!(
            "  migrations      {}\n  recorded        {}\n  pending         {pending}\n",
            r.migrations, r.recorded
        ));
        s.push_str(&format!(
            "  last            {}\n",
            r.last.as_deref().unwrap_or("-")
        ));
        if let Some(heads) = &r.alembic_heads {
            s.push_str(&format!(
                "  declared head   {}\n  alembic heads   {}\n",
                r.declared_head.as_deref().unwrap_or("-"),
                heads.join(", ")
            ));
        }
        s.push_str(&format!(
            "  base            {}\n",
            r.base.as_deref().unwrap_or("none")
        ));
    }
    s
}
