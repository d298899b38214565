//! Small logs for the rules a real log rarely shows all at once: where one docker build run
//! ends and the next begins, and lines that only look like build events.

use cachescope::parse::parse_bytes;

/// `(invocation, step, status, duration)` of every step.
fn rows(log: &str) -> Vec<(u32, String, &'static str, Option<f64>)> {
    parse_bytes(log.as_bytes())
        .steps
        .into_iter()
        .map(|s| (s.invocation, s.step, s.status.as_str(), s.duration_s))
        .collect()
}

fn row(
    inv: u32,
    step: &str,
    status: &'static str,
    d: Option<f64>,
) -> (u32, String, &'static str, Option<f64>) {
    (inv, step.to_string(), status, d)
}

#[test]
fn restarted_vertex_numbers_without_a_building_with_line_are_a_new_run() {
    let log = "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n#2 [1/2] FROM alpine\n#2 CACHED\n\
               #1 [internal] load build definition from Dockerfile.worker\n#1 DONE 0.1s\n#2 [1/2] FROM debian\n#2 DONE 2.0s\n";
    assert_eq!(
        rows(log),
        vec![
            row(1, "#1", "rebuilt", Some(0.0)),
            row(1, "#2", "cached", None),
            row(2, "#1", "rebuilt", Some(0.1)),
            row(2, "#2", "rebuilt", Some(2.0)),
        ]
    );
}

#[test]
fn command_lines_of_several_ci_systems_start_a_run() {
    for cmd in [
        "[command]/usr/bin/docker buildx build --tag b .",
        "  docker build -t b .",
        "+ docker compose -f ci.yml build web",
        "$ docker --context remote build .",
        "[Container] 2024/01/01 00:00:00.000000 Running command podman build -t b .",
    ] {
        let log = format!(
            "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n#2 [1/2] FROM alpine\n#2 CACHED\n\
             {cmd}\n#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n#2 [1/2] FROM alpine\n#2 DONE 1.0s\n"
        );
        let invocations: Vec<u32> = rows(&log).iter().map(|r| r.0).collect();
        assert_eq!(invocations, [1, 1, 2, 2], "{cmd}");
    }
}

#[test]
fn docker_build_inside_step_output_is_not_a_boundary() {
    let log =
        "2024-01-01T00:00:00.0000000Z #0 building with \"default\" instance using docker driver\n\
               2024-01-01T00:00:00.0000000Z #5 [2/3] RUN ./ci.sh\n\
               2024-01-01T00:00:00.0000000Z #5 0.512 + docker build -t inner .\n\
               2024-01-01T00:00:00.0000000Z #5 DONE 2.0s\n\
               2024-01-01T00:00:00.0000000Z #6 [3/3] COPY a b\n\
               2024-01-01T00:00:00.0000000Z #6 CACHED\n";
    assert_eq!(
        rows(log),
        vec![
            row(1, "#5", "rebuilt", Some(2.0)),
            row(1, "#6", "cached", None)
        ]
    );
}

#[test]
fn modern_onbuild_triggers_have_no_step_lines_to_fold() {
    let log = "Step 1/3 : FROM node:onbuild\n# Executing 2 build triggers\n ---> Running in a\n ---> 111\n\
               Step 2/3 : RUN npm test\n ---> Running in c\n ---> 222\nStep 3/3 : CMD x\n ---> Running in d\n ---> 333\n\
               Successfully built 333333333333\n";
    let got: Vec<String> = rows(log).into_iter().map(|r| r.1).collect();
    assert_eq!(got, ["Step 1/3", "Step 2/3", "Step 3/3"]);
}

#[test]
fn pip_and_psql_success_lines_do_not_end_a_legacy_run() {
    let log = "Step 1/3 : FROM python\n ---> abc\nStep 2/3 : RUN pip install pyyaml && psql -c x\n ---> Running in 1\n\
               Successfully built pyyaml\nCOMMIT\n ---> def\nStep 3/3 : CMD x\n ---> Running in 4\nSuccessfully built 789789789789\n";
    let got = rows(log);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.0 == 1 && r.2 == "rebuilt"), "{got:?}");
}

#[test]
fn script_step_banners_are_not_legacy_steps() {
    let log = "Step 1: Build image\n#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\nStep 2: Push image\n";
    assert_eq!(rows(log), vec![row(1, "#1", "rebuilt", Some(0.0))]);
}

#[test]
fn arrows_in_program_output_are_not_tty_rows() {
    let log = "Step 1/2 : FROM ruby\n ---> abc\nStep 2/2 : RUN rails s\n ---> Running in 1\n=> Booting Puma\n\
               => Rails 7.0 application starting 12.0s\n ---> def\nSuccessfully built abcdefabcdef\n";
    let got: Vec<String> = rows(log).into_iter().map(|r| r.1).collect();
    assert_eq!(got, ["Step 1/2", "Step 2/2"]);
}

#[test]
fn a_tty_row_marked_error_later_is_an_error() {
    let log = "[+] Building 1.2s (4/6)\n => [2/3] RUN make   1.0s\n[+] Building 3.4s (5/6)\n => ERROR [2/3] RUN make   3.1s\n";
    assert_eq!(rows(log), vec![row(1, "#1", "error", None)]);
}

#[test]
fn v04_error_row_after_completed_is_an_error_with_its_message() {
    let log = "#6 [2/2] RUN false\n#6    completed: 2019-04-08 08:04:01.72257637 +0000 UTC\n#6     duration: 333ms\n\
               #6        error: \"executor failed running [/bin/sh -c false]: exit code: 1\"\n";
    let steps = parse_bytes(log.as_bytes()).steps;
    assert_eq!(steps[0].status.as_str(), "error");
    assert_eq!(steps[0].duration_s, None);
    assert!(steps[0].error.as_deref().unwrap().contains("exit code: 1"));
}

#[test]
fn the_same_output_printed_twice_is_one_run() {
    let one = "#0 building with \"default\" instance using docker driver\n#1 [internal] load build definition from Dockerfile\n\
               #1 DONE 0.0s\n#2 [1/2] FROM alpine\n#2 DONE 0.1s\n#3 [2/2] RUN make\n#3 DONE 9.9s\n";
    let twice =
        format!("{one}[Container] 2024/01/01 00:00:00 Running command cat build.log\n{one}");
    assert_eq!(rows(&twice), rows(one));
    // A second run that differs is kept.
    let other = one.replace("#3 DONE 9.9s", "#3 CACHED");
    assert_eq!(rows(&format!("{one}{other}")).len(), 6);
}

#[test]
fn legacy_step_numbers_restarting_start_a_run() {
    let build = "Sending build context to Docker daemon  2.048kB\nStep 1/2 : FROM alpine\n ---> abc\nStep 2/2 : RUN make\n ---> Using cache\n ---> def\nSuccessfully built abcdefabcdef\n";
    let two = format!("{build}{}", build.replace("Using cache", "Running in 1"));
    let got = rows(&two);
    assert_eq!(got.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 1, 2, 2]);
    assert_eq!((got[1].2, got[3].2), ("cached", "rebuilt"));
}

#[test]
fn codebuild_phases_and_commands_are_reported() {
    let log = "[Container] 2025/03/08 23:03:49.616090 Entering phase BUILD\n\
               [Container] 2025/03/08 23:03:49.621332 Running command docker build -t app .\n\
               #1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\
               [Container] 2025/03/08 23:04:29.781600 Phase complete: BUILD State: SUCCEEDED\n";
    let p = parse_bytes(log.as_bytes());
    let phases: Vec<_> = p
        .phases
        .iter()
        .map(|p| (p.phase.as_str(), p.state.as_str(), p.at_ms))
        .collect();
    assert_eq!(
        phases,
        [
            ("BUILD", "STARTED", 1_741_475_029_616),
            ("BUILD", "SUCCEEDED", 1_741_475_069_781)
        ]
    );
    assert_eq!(p.commands.len(), 1);
    assert_eq!(p.commands[0].command, "docker build -t app .");
}

#[test]
fn absurd_event_timestamps_give_no_duration_and_no_panic() {
    // Found by reading the fuzz target's path: i64::MAX - (-927) overflows.
    let mut parser = cachescope::parse::Parser::default();
    parser.push_event(-927, b"Step 1/2 : RUN a");
    parser.push_event(i64::MAX, b"Step 2/2 : RUN b");
    parser.push_event(i64::MIN, b" ---> Running in 1");
    parser.finish();
    let steps: Vec<_> = parser
        .events()
        .filter_map(|e| match e {
            cachescope::parse::Event::Step(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(steps.len(), 2);
    assert!(steps.iter().all(|s| s.duration_s.is_none_or(|d| d >= 0.0)));
}

#[test]
fn compose_and_platform_prefixed_internal_vertices_are_internal() {
    let log = "#1 [web internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\
               #2 [linux/amd64 internal] load metadata for docker.io/library/alpine:3\n#2 DONE 0.4s\n\
               #3 [web 2/3] RUN make\n#3 CACHED\n";
    let kinds: Vec<&str> = parse_bytes(log.as_bytes())
        .steps
        .iter()
        .map(|s| s.kind.as_str())
        .collect();
    assert_eq!(kinds, ["internal", "internal", "dockerfile"]);
}

#[test]
fn a_service_reprinting_a_shared_vertex_stays_in_the_same_run() {
    let log = "#0 building with \"default\" instance using docker driver\n\
               #1 [api internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\
               #5 [api 2/3] COPY . .\n#5 DONE 0.2s\n\
               #1 [web internal] load build definition from Dockerfile\n\
               #5 [web 2/3] COPY . .\n#6 [web 3/3] RUN make\n#6 DONE 3.0s\n";
    assert_eq!(
        rows(log),
        vec![
            row(1, "#1", "rebuilt", Some(0.0)),
            row(1, "#5", "rebuilt", Some(0.2)),
            row(1, "#6", "rebuilt", Some(3.0)),
        ]
    );
    // Another step under the same number is still the next build.
    let next = log.replace("#5 [web 2/3] COPY . .", "#5 [web 2/3] RUN other");
    assert_eq!(rows(&next).last().unwrap().0, 2);
}

#[test]
fn docker_1x_counts_steps_from_zero_without_a_total() {
    let log = "Step 0 : FROM ubuntu:14.04\n ---> 8eaa4ff06b53\nStep 1 : RUN make\n ---> Using cache\n ---> 1a2b3c4d5e6f\n\
               Step 2 : CMD [\"app\"]\n ---> Running in 0f0f0f0f0f0f\n ---> 2b3c4d5e6f70\nSuccessfully built 2b3c4d5e6f70\n";
    assert_eq!(
        rows(log),
        vec![
            row(1, "Step 0", "rebuilt", None),
            row(1, "Step 1", "cached", None),
            row(1, "Step 2", "rebuilt", None),
        ]
    );
}

#[test]
fn a_legacy_step_without_its_image_failed_when_the_build_command_failed() {
    let head = "Step 1/2 : FROM node:20\n ---> 1a2b3c4d5e6f\nStep 2/2 : COPY app.js /app/\n";
    for ending in [
        "[Container] 2024/01/02 03:04:05.000000 Command did not exit successfully docker build -t app . exit status 1\n",
        "ERROR: Job failed: exit code 1\n",
        "Error response from daemon: something the builder never printed before\n",
        "The command '/bin/sh -c cp app.js /app/' returned a non-zero code: 1\n",
    ] {
        let got = rows(&format!("{head}{ending}"));
        assert_eq!(got[1], row(1, "Step 2/2", "error", None), "{ending}");
    }
    // The log stops inside the step: unfinished, output or not.
    let cut = format!("{head} ---> Running in 0f0f0f0f0f0f\nadded 12 packages\n");
    assert_eq!(rows(&cut)[1].2, "unfinished");
    // A step that printed its image succeeded whatever its output said.
    let ok = format!("{head}npm ERR! exit code 1 (ignored)\n ---> 2b3c4d5e6f70\n");
    assert_eq!(rows(&ok)[1].2, "rebuilt");
    // A retry starts before the step printed its image: that attempt failed.
    let retry = format!("Sending build context to Docker daemon  2kB\n{head}received unexpected HTTP status: 503\nSending build context to Docker daemon  2kB\n{head} ---> 2b3c4d5e6f70\nSuccessfully built 2b3c4d5e6f70\n");
    let got = rows(&retry);
    assert_eq!((got[1].0, got[1].2), (1, "error"));
    assert_eq!((got[3].0, got[3].2), (2, "rebuilt"));
}

#[test]
fn stale_tty_frames_keep_the_last_time_and_a_second_finished_build_is_a_new_run() {
    let log = "[+] Building 3.0s (2/4)\n => [1/2] FROM alpine   1.0s\n => [2/2] RUN make   2.0s\n\
               [+] Building 9.0s (4/4) FINISHED\n => [1/2] FROM alpine   1.0s\n => [2/2] RUN make   8.0s\n\
               [+] Building 9.1s (4/4) FINISHED\n => [1/2] FROM alpine   1.0s\n => [2/2] RUN make   8.0s\n\
               [+] Building 1.0s (3/3) FINISHED\n => CACHED [1/1] FROM debian   0.0s\n";
    assert_eq!(
        rows(log),
        vec![
            row(1, "#1", "rebuilt", Some(1.0)),
            row(1, "#2", "rebuilt", Some(8.0)),
            row(2, "#1", "cached", None),
        ]
    );
}

#[test]
fn engine_api_json_streams_are_read_as_the_text_they_carry() {
    let log = "{\"stream\":\"Step 1/2 : FROM alpine\\n\"}\n{\"stream\":\" ---\\u003e 1a2b3c4d5e6f\\n\"}\n\
               {\"stream\":\"Step 2/2 : RUN false\\n\"}\n{\"stream\":\" ---\\u003e Running in 0f0f0f0f0f0f\\n\"}\n\
               {\"errorDetail\":{\"code\":1},\"error\":\"The command '/bin/sh -c false' returned a non-zero code: 1\"}\n\
               {\"stream\":\"{\\\"stream\\\":\\\"Step 1/1 : FROM x\\\\n\\\"}\\n\"}\n";
    assert_eq!(
        rows(log),
        vec![
            row(1, "Step 1/2", "rebuilt", None),
            row(1, "Step 2/2", "error", None)
        ]
    );
}

#[test]
fn a_powershell_utf16_log_reads_as_its_text() {
    let text = "#1 [internal] load build definition from Dockerfile\r\n#1 DONE 0.1s\r\n#2 [1/1] FROM alpine\r\n#2 CACHED\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let got: Vec<_> = parse_bytes(&bytes)
        .steps
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(
        got,
        [
            "[internal] load build definition from Dockerfile",
            "[1/1] FROM alpine"
        ]
    );
}

#[test]
fn a_header_that_is_a_lone_bracket_does_not_panic() {
    let log = "#1 ]\n#1 DONE 0.1s\n#1 [a] b\n#1 DONE 0.2s\n";
    assert_eq!(rows(log).len(), 2);
}

#[test]
fn a_cached_rebuild_with_the_same_vertex_count_is_a_second_run() {
    let log = "[+] Building 9.0s (4/4) FINISHED\n => [2/2] RUN make   8.0s\n\
               [+] Building 0.2s (4/4) FINISHED\n => CACHED [2/2] RUN make   0.0s\n";
    assert_eq!(
        rows(log),
        vec![
            row(1, "#1", "rebuilt", Some(8.0)),
            row(2, "#1", "cached", None)
        ]
    );
}

#[test]
fn podman_ends_its_run_at_successfully_tagged_after_the_last_commit() {
    let log = "STEP 1/2: FROM alpine\nSTEP 2/2: RUN make\n--> Using cache 1a2b3c4d5e6f7\nCOMMIT app\n--> 1a2b3c4d5e6\n\
               Successfully tagged localhost/app:latest\n#1 [internal] load build definition from Dockerfile\n#1 DONE 0.1s\n";
    let got = rows(log);
    assert_eq!(got.last().unwrap().0, 2, "{got:?}");
}

#[test]
fn program_json_and_sanitizer_traces_in_a_legacy_step_are_output() {
    let log = "  Step 1/2 : FROM alpine\n   ---> 1a2b3c4d5e6f\n  Step 2/2 : RUN ./test\n   ---> Running in 0f0f0f0f0f0f\n\
               {\"level\":\"error\",\"error\":\"tests failed: exit code 1\"}\n  #1 0x4f5e3a in main x.c:3\n  #2 0x4f5e4b in start\n\
                ---> 2b3c4d5e6f70\n  Successfully built 2b3c4d5e6f70\n";
    assert_eq!(
        rows(log),
        vec![
            row(1, "Step 1/2", "rebuilt", None),
            row(1, "Step 2/2", "rebuilt", None)
        ]
    );
}
