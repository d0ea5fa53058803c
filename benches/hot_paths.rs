//! In-process benchmarks of the hot paths (divan): `cargo bench --bench hot_paths`.
//! Whole-process timings of real workloads are in `benches/run.sh`.

use miglint::alembic::graph::{read_revision, Graph};
use miglint::ledger;
use miglint::sql;

fn main() {
    divan::main();
}

/// A realistic migration (the example set's largest file), repeated to ~13 KB.
fn migration() -> String {
    include_str!("../migrations/0002_create_roles.sql").repeat(14)
}

#[divan::bench]
fn split_and_parse_13kb(bencher: divan::Bencher) {
    let text = migration();
    bencher
        .counter(divan::counter::BytesCount::new(text.len()))
        .bench(|| {
            sql::analyze(
                divan::black_box(&text),
                &sqlparser::dialect::PostgreSqlDialect {},
                &[],
                true,
            )
        });
}

#[divan::bench]
fn sha256_13kb(bencher: divan::Bencher) {
    let text = migration();
    bencher
        .counter(divan::counter::BytesCount::new(text.len()))
        .bench(|| ledger::sha256_hex(divan::black_box(text.as_bytes())));
}

#[divan::bench]
fn ledger_parse_10k_lines(bencher: divan::Bencher) {
    let text: String = (0..10_000)
        .map(|i| {
            ledger::format_line(
                &ledger::sha256_hex(&[i as u8, (i >> 8) as u8]),
                &format!("{i:05}_m.sql"),
            )
        })
        .collect();
    bencher.bench(|| ledger::parse(divan::black_box(text.as_bytes())));
}

#[divan::bench]
fn alembic_read_and_graph_10k_revisions(bencher: divan::Bencher) {
    let files: Vec<(String, String)> = (0..10_000)
        .map(|i| {
            let down = if i == 0 { "None".to_string() } else { format!("'r{}'", i - 1) };
            (format!("v/r{i}.py"), format!("\"\"\"r{i}\n\nRevises: x\n\"\"\"\nfrom typing import Sequence, Union\n\nrevision: str = 'r{i}'\ndown_revision: Union[str, Sequence[str], None] = {down}\nbranch_labels = None\ndepends_on = None\n\ndef upgrade() -> None:\n    pass\n"))
        })
        .collect();
    bencher.bench(|| {
        let revisions: Vec<_> = files
            .iter()
            .filter_map(|(f, src)| read_revision(f, src).ok())
            .collect();
        let graph = Graph::build(revisions);
        assert_eq!(graph.heads().len(), 1);
        miglint::rules::alembic::structure(&graph, 1).len()
    });
}
