//! Hand-labelled real logs of the formats the main corpus lacks (rawjson, TTY paste, BuildKit
//! v0.4–v0.6, buildah/podman, ONBUILD triggers, CI wrappers): testdata/formats/SOURCES.md.

mod labels;

#[test]
fn every_format_fixture_matches_its_label() {
    labels::check_dir("testdata/formats");
}

/// Real logs from CI systems and tools the parser was not built from, each wrapping lines its
/// own way: testdata/wild/SOURCES.md.
#[test]
fn every_wild_log_matches_its_label() {
    labels::check_dir_with_gaps(
        "testdata/wild",
        &[
            (
                "a-gcb-reversed-newest-first-legacy",
                "a console copy in newest-first order; a streaming parser reads logs forwards",
            ),
            (
                "b-railway-ui-copy-stage-label-lines-copy-not-found",
                "Railway's dashboard renders each vertex as three lines without `#N`",
            ),
            (
                "b-tilt-resource-prefix-tilt-step-rows-cached",
                "Tilt's own step rows (`[2/8] COPY ... [cached]`, `[done: 857ms]`)",
            ),
        ],
    );
}
