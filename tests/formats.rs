//! Hand-labelled real logs of the formats the main corpus lacks (rawjson, TTY paste, BuildKit
//! v0.4–v0.6, buildah/podman, ONBUILD triggers, CI wrappers): testdata/formats/SOURCES.md.

mod labels;

#[test]
fn every_format_fixture_matches_its_label() {
    labels::check_dir("testdata/formats");
}
