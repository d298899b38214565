//! Model values → polars DataFrames with the columns named in [`super::schema`].

use polars::prelude::*;

use super::schema::{builds as b, phases as p, steps as s};
use super::summary::{BuildInput, Summary};
use crate::model::{BuildMeta, Phase, Step, StepKind, StepStatus};

/// One row per step, the `steps` contract columns and types.
pub fn steps_frame(steps: &[Step]) -> PolarsResult<DataFrame> {
    let col = |f: fn(&Step) -> Option<String>| steps.iter().map(f).collect::<Vec<_>>();
    df!(
        s::INVOCATION => steps.iter().map(|x| x.invocation).collect::<Vec<u32>>(),
        s::VERTEX => steps.iter().map(|x| x.vertex).collect::<Vec<Option<u32>>>(),
        s::STEP => col(|x| Some(x.step.clone())),
        s::NAME => col(|x| Some(x.name.clone())),
        s::STAGE => col(|x| x.stage.clone()),
        s::INDEX => steps.iter().map(|x| x.index).collect::<Vec<Option<u32>>>(),
        s::TOTAL => steps.iter().map(|x| x.total).collect::<Vec<Option<u32>>>(),
        s::INSTRUCTION => col(|x| x.instruction.clone()),
        s::KIND => col(|x| Some(x.kind.as_str().to_string())),
        s::STATUS => col(|x| Some(x.status.as_str().to_string())),
        s::DURATION_S => steps.iter().map(|x| x.duration_s).collect::<Vec<Option<f64>>>(),
        s::LINE => steps.iter().map(|x| x.line).collect::<Vec<u64>>(),
        s::ERROR => col(|x| x.error.clone()),
    )
}

/// The inverse of [`steps_frame`]: steps read back from a stored frame.
pub fn steps_from_frame(df: &DataFrame) -> PolarsResult<Vec<Step>> {
    let text = |name: &str| -> PolarsResult<Vec<Option<String>>> {
        let ca = df.column(name)?.str()?.clone();
        Ok((0..ca.len())
            .map(|i| ca.get(i).map(str::to_string))
            .collect())
    };
    let num = |name: &str| -> PolarsResult<Vec<Option<u32>>> {
        let ca = df.column(name)?.cast(&DataType::UInt32)?;
        let ca = ca.u32()?;
        Ok((0..ca.len()).map(|i| ca.get(i)).collect())
    };
    let bad = |what: &str, v: &str| polars_err!(ComputeError: "unknown {} {:?} in a steps frame", what, v);
    let (invocation, vertex, index, total) = (
        num(s::INVOCATION)?,
        num(s::VERTEX)?,
        num(s::INDEX)?,
        num(s::TOTAL)?,
    );
    let (step, name, stage, instruction, kind, status, error) = (
        text(s::STEP)?,
        text(s::NAME)?,
        text(s::STAGE)?,
        text(s::INSTRUCTION)?,
        text(s::KIND)?,
        text(s::STATUS)?,
        text(s::ERROR)?,
    );
    let duration = df.column(s::DURATION_S)?.cast(&DataType::Float64)?;
    let duration = duration.f64()?;
    let line = df.column(s::LINE)?.cast(&DataType::UInt64)?;
    let line = line.u64()?;
    (0..df.height())
        .map(|i| {
            let kind = kind[i].as_deref().unwrap_or("");
            let status = status[i].as_deref().unwrap_or("");
            Ok(Step {
                invocation: invocation[i].unwrap_or(1),
                vertex: vertex[i],
                step: step[i].clone().unwrap_or_default(),
                name: name[i].clone().unwrap_or_default(),
                stage: stage[i].clone(),
                index: index[i],
                total: total[i],
                instruction: instruction[i].clone(),
                kind: StepKind::parse(kind).ok_or_else(|| bad("kind", kind))?,
                status: StepStatus::parse(status).ok_or_else(|| bad("status", status))?,
                duration_s: duration.get(i),
                line: line.get(i).unwrap_or(0),
                error: error[i].clone(),
            })
        })
        .collect()
}

fn datetime_ms(name: &str, ms: Vec<Option<i64>>) -> PolarsResult<Column> {
    Series::new(name.into(), ms)
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
        .map(Column::from)
}

/// One row per CodeBuild phase; times are UTC.
pub fn phases_frame(phases: &[Phase]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new(
            p::PHASE.into(),
            phases.iter().map(|x| x.phase.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            p::STATE.into(),
            phases.iter().map(|x| x.state.clone()).collect::<Vec<_>>(),
        ),
        datetime_ms(p::START, phases.iter().map(|x| x.start_ms).collect())?,
        datetime_ms(p::END, phases.iter().map(|x| x.end_ms).collect())?,
        Column::new(
            p::DURATION_S.into(),
            phases.iter().map(|x| x.duration_s).collect::<Vec<_>>(),
        ),
    ])
}

/// A build as the store keeps it: its one-row builds frame without `project` (the partition
/// column) and its steps frame led by `build_id` (the join key: the CodeBuild build ID, or
/// `key` for a log file).
pub fn stored(
    input: &BuildInput,
    summary: &Summary,
    key: &str,
) -> PolarsResult<(DataFrame, DataFrame)> {
    let mut row = builds_frame(summary)?;
    let _ = row.drop_in_place(b::PROJECT)?;
    let mut steps = steps_frame(&input.steps)?;
    let id = input.meta.as_ref().map_or(key, |m| m.id.as_str());
    let ids = Column::new(b::BUILD_ID.into(), vec![id; steps.height()]);
    steps.insert_column(0, ids)?;
    Ok((row, steps))
}

/// The one-row build summary.
pub fn builds_frame(sum: &Summary) -> PolarsResult<DataFrame> {
    let c = &sum.counts;
    let bust = sum.cache_bust.as_ref();
    let meta = sum.build.as_ref();
    let text = |f: fn(&BuildMeta) -> Option<String>| [meta.and_then(f)];
    let mut frame = df!(
        b::SOURCE => [sum.source.clone()],
        b::BUILD_ID => text(|m| Some(m.id.clone())),
        b::PROJECT => text(|m| Some(m.project.clone())),
        b::BUILD_NUMBER => [meta.and_then(|m| m.number)],
        b::BUILD_STATUS => text(|m| m.status.map(|s| s.as_str().to_string())),
        b::BUILDER => [sum.health.builder.as_str().to_string()],
        b::INVOCATIONS => [sum.invocations],
        b::STEPS => [sum.steps],
        b::CACHED => [c.cached],
        b::REBUILT => [c.rebuilt],
        b::ERROR => [c.error],
        b::CANCELED => [c.canceled],
        b::UNFINISHED => [c.unfinished],
        b::DOCKERFILE_STEPS => [sum.dockerfile_steps],
        b::DOCKERFILE_CACHED => [sum.dockerfile_cached],
        b::HIT_RATIO => [sum.hit_ratio],
        b::HIT_RATIO_ALL => [sum.hit_ratio_all],
        b::REBUILT_S => [sum.rebuilt_s],
        b::DOCKER_BUILD_S => [sum.docker_build_s],
        b::CACHE_BUST_STEP => [bust.map(|x| x.name.clone())],
        b::CACHE_BUST_CAUSE => [bust.map(|x| x.cause.as_str().to_string())],
        b::SCENARIO => [sum.scenario.as_str().to_string()],
        b::CACHE_FROM => [sum.health.cache_from],
        b::INLINE_CACHE => [sum.health.inline_cache],
        b::CACHE_IMPORT => [sum.health.cache_import.as_str().to_string()],
        b::CAUSE => [sum.verdict.cause.id().to_string()],
        b::CAUSE_CONFIDENCE => [sum.verdict.confidence.as_str().to_string()],
        b::CACHE_COST_S => [sum.cache_cost.total_s],
        b::TIME_SAVED_S => [sum.baseline.as_ref().map(|x| x.time_saved_s)],
    )?;
    // Times sit with the build's other CodeBuild fields, after its status.
    let at = frame.get_column_index(b::BUILD_STATUS).unwrap_or(0) + 1;
    frame.insert_column(
        at,
        datetime_ms(b::BUILD_START, vec![meta.and_then(|m| m.start_ms)])?,
    )?;
    frame.insert_column(
        at + 1,
        datetime_ms(b::BUILD_END, vec![meta.and_then(|m| m.end_ms)])?,
    )?;
    frame.insert_column(
        at + 2,
        Column::new(b::SOURCE_VERSION.into(), text(|m| m.source_version.clone())),
    )?;
    Ok(frame)
}
