//! Every bundled real log (testdata/corpus, from ../shared/corpus) gives exactly its
//! hand-checked label: status, duration, order, name, invocations.

mod labels;

#[test]
fn every_corpus_log_matches_its_label() {
    labels::check_dir("testdata/corpus");
}
