//! Why an image reference may have been meant as a stage: a name that fails to resolve as an
//! image and is close to (or is) the name of a stage the Dockerfile defines, told where it is used.

use super::graph::{Base, Source, StageGraph};
use crate::instructions::suggest;
use crate::syntax::SourceRange;

/// The images BuildKit's frontend suggests for a FROM besides stage names (`commonImageNames`).
const COMMON_IMAGES: &[&str] = &[
    "alpine", "busybox", "centos", "debian", "golang", "ubuntu", "fedora",
];

/// Where a reachable stage first reads `image` (its FROM line or the COPY/RUN that names it),
/// with the stage and whether it is the FROM.
pub fn first_use(graph: &StageGraph, image: &str) -> Option<(usize, SourceRange, bool)> {
    for (index, stage) in graph.stages.iter().enumerate() {
        if graph.reachable.get(index) != Some(&true) {
            continue;
        }
        if graph.bases[index] == Base::Image(image.to_string()) {
            return Some((index, stage.from.range, true));
        }
        let dep = graph.dependencies[index]
            .iter()
            .find(|d| d.source == Source::Image(image.to_string()));
        if let Some(dep) = dep {
            return Some((index, dep.range, false));
        }
    }
    None
}

/// What to add to the failure of resolving `image`, read as an image by stage `user`: the stage
/// it probably names, and why it was not read as that stage.
pub fn stage_hint(graph: &StageGraph, image: &str, user: usize, is_from: bool) -> Option<String> {
    let named: Vec<(usize, &str)> = graph
        .stages
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.name().map(|n| (i, n)))
        .collect();
    let later = |index: usize, name: &str| {
        format!(
            "stage {name:?} is defined at line {}, after this one: stages can only use earlier stages",
            graph.stages[index].from.range.start_line
        )
    };
    if let Some(&(index, name)) = named.iter().find(|(_, n)| n.eq_ignore_ascii_case(image)) {
        return (index >= user).then(|| later(index, name));
    }
    let names: Vec<&str> = named.iter().map(|(_, n)| *n).collect();
    if let Some(close) = suggest::search(image, &names, false) {
        let index = named
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(&close))
            .map(|(i, _)| *i)?;
        let hint = format!("did you mean stage {close:?}?");
        return Some(match index >= user {
            true => format!("{hint} ({})", later(index, &close)),
            false => hint,
        });
    }
    if !is_from {
        return None;
    }
    suggest::search(image, COMMON_IMAGES, true).map(|image| format!("did you mean {image}?"))
}

/// Every image the reachable stages read whose name looks like a stage of the Dockerfile, at the
/// first instruction reading it, with its hint: what can be told without resolving anything.
pub fn stage_like_images(graph: &StageGraph) -> Vec<(SourceRange, String)> {
    let mut images: Vec<&str> = Vec::new();
    for (index, base) in graph.bases.iter().enumerate() {
        if graph.reachable.get(index) != Some(&true) {
            continue;
        }
        if let Base::Image(name) = base {
            images.push(name);
        }
        for dep in &graph.dependencies[index] {
            if let Source::Image(name) = &dep.source {
                images.push(name);
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    images
        .into_iter()
        .filter(|image| seen.insert(*image))
        .filter_map(|image| {
            let (user, range, _) = first_use(graph, image)?;
            let hint = stage_hint(graph, image, user, false)?;
            Some((
                range,
                format!("{image} is read as an image, not a stage: {hint}"),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(dockerfile: &str) -> StageGraph {
        crate::stages::test_graph(dockerfile, &[], &[]).expect("graph")
    }

    #[test]
    fn a_typo_of_a_stage_is_told() {
        let g = graph("FROM busybox AS builder\nFROM scratch\nCOPY --from=buidler /a /a\n");
        let (user, range, is_from) = first_use(&g, "buidler").expect("used");
        assert_eq!((user, range.start_line, is_from), (1, 3, false));
        assert_eq!(
            stage_hint(&g, "buidler", user, is_from).as_deref(),
            Some("did you mean stage \"builder\"?")
        );
    }

    #[test]
    fn a_later_stage_is_told_as_later() {
        let g = graph("FROM stage-b AS a\nFROM busybox AS stage-b\nFROM a\n");
        let (user, _, is_from) = first_use(&g, "stage-b").expect("used");
        assert_eq!(
            stage_hint(&g, "stage-b", user, is_from).as_deref(),
            Some("stage \"stage-b\" is defined at line 2, after this one: stages can only use earlier stages")
        );
        let g = graph("FROM stage-c AS a\nFROM busybox AS stage-b\nFROM a\n");
        assert!(stage_hint(&g, "stage-c", 0, true).unwrap().starts_with(
            "did you mean stage \"stage-b\"? (stage \"stage-b\" is defined at line 2"
        ));
    }

    #[test]
    fn offline_hints_name_each_stage_like_image_once() {
        let g = graph("FROM busybox AS builder\nFROM scratch\nCOPY --from=buidler /a /a\nCOPY --from=buidler /b /b\n");
        let hints = stage_like_images(&g);
        assert_eq!(hints.len(), 1);
        assert_eq!(hints[0].0.start_line, 3);
        assert_eq!(
            hints[0].1,
            "buidler is read as an image, not a stage: did you mean stage \"builder\"?"
        );
    }

    #[test]
    fn common_images_for_a_from_only() {
        let g = graph("FROM ubunt\n");
        assert_eq!(
            stage_hint(&g, "ubunt", 0, true).as_deref(),
            Some("did you mean ubuntu?")
        );
        assert_eq!(stage_hint(&g, "ubunt", 0, false), None);
        assert_eq!(stage_hint(&g, "nginx", 0, true), None);
    }
}
