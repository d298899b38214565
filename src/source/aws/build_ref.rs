//! A CodeBuild build named on the command line: `project:uuid` or the build's ARN.
//!
//! The forms are strict (a project name as CodeBuild allows it, a canonical UUID) so that a path
//! is never mistaken for a build; a path that exists is read as a file before this is tried.

use std::fmt;

/// One CodeBuild build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRef {
    pub project: String,
    /// The UUID after the colon: also the name of the build's log stream by default.
    pub uuid: String,
    /// The region named in an ARN.
    pub region: Option<String>,
}

impl BuildRef {
    /// `project:uuid` or `arn:<partition>:codebuild:<region>:<account>:build/project:uuid`.
    pub fn parse(s: &str) -> Option<BuildRef> {
        if let Some(rest) = s.strip_prefix("arn:") {
            let mut parts = rest.splitn(5, ':');
            let (partition, service, region, account, resource) = (
                parts.next()?,
                parts.next()?,
                parts.next()?,
                parts.next()?,
                parts.next()?,
            );
            let id_ok = partition.starts_with("aws")
                && service == "codebuild"
                && !region.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit());
            let id = resource.strip_prefix("build/").filter(|_| id_ok)?;
            let mut build = BuildRef::parse_id(id)?;
            build.region = Some(region.to_string());
            return Some(build);
        }
        BuildRef::parse_id(s)
    }

    fn parse_id(s: &str) -> Option<BuildRef> {
        let (project, uuid) = s.split_once(':')?;
        (is_project_name(project) && is_uuid(uuid)).then(|| BuildRef {
            project: project.to_string(),
            uuid: uuid.to_string(),
            region: None,
        })
    }

    /// `project:uuid`, as CodeBuild's API takes it.
    pub fn id(&self) -> String {
        format!("{}:{}", self.project, self.uuid)
    }

    /// Where CodeBuild writes a build's log unless the project says otherwise.
    pub fn default_log_group(&self) -> String {
        format!("/aws/codebuild/{}", self.project)
    }
}

impl fmt::Display for BuildRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.project, self.uuid)
    }
}

/// CodeBuild project names: 2–255 of `A-Za-z0-9-_`, starting with a letter or digit.
fn is_project_name(s: &str) -> bool {
    (2..=255).contains(&s.len())
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

    #[test]
    fn ids_and_arns() {
        let b = BuildRef::parse(&format!("tts-service-build:{UUID}")).unwrap();
        assert_eq!(b.project, "tts-service-build");
        assert_eq!(b.uuid, UUID);
        assert_eq!(b.region, None);
        assert_eq!(b.default_log_group(), "/aws/codebuild/tts-service-build");

        let arn = format!("arn:aws:codebuild:ap-south-1:123456789012:build/tts_svc:{UUID}");
        let b = BuildRef::parse(&arn).unwrap();
        assert_eq!(b.id(), format!("tts_svc:{UUID}"));
        assert_eq!(b.region.as_deref(), Some("ap-south-1"));
        let cn = format!("arn:aws-cn:codebuild:cn-north-1:123456789012:build/p1:{UUID}");
        assert!(BuildRef::parse(&cn).is_some());
    }

    #[test]
    fn paths_and_near_misses_are_not_builds() {
        for s in [
            "build.log",
            "logs/p:x.log",
            &format!("./p:{UUID}"),
            &format!("p/q:{UUID}"),
            &format!("-p:{UUID}"),
            &format!("x:{UUID}"),                     // one-letter project
            "p1:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f", // short UUID
            "p1:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg",
            &format!("C:\\logs\\p:{UUID}"),
            &format!("arn:aws:codebuild:ap-south-1:123:build/p1:{UUID}"), // short account
            &format!("arn:aws:s3:ap-south-1:123456789012:build/p1:{UUID}"),
            &format!("arn:aws:codebuild:ap-south-1:123456789012:project/p1:{UUID}"),
        ] {
            assert_eq!(BuildRef::parse(s), None, "{s}");
        }
    }
}
