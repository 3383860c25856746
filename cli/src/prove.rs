//! `zorg-pdp prove [--policies DIR] [PROPERTIES.toml]`: the properties of a
//! policy set, proved for every request and entity store its schema admits,
//! with Cedar's symbolic compiler (`cedar-policy-symcc`) and the cvc5 SMT
//! solver (docs/prove.md).
//!
//! Per request environment (principal type, action, resource type of the
//! schema) symcc compiles the policies to SMT; cvc5 either proves the
//! property or gives a model, which symcc turns back into a concrete request
//! and entity store. Every such counterexample is run through Cedar's own
//! authorizer before it is shown, so what is printed really is one.
//!
//! symcc is async (it talks to the cvc5 process); the proof runs on a
//! current-thread tokio runtime here in the CLI, and the core stays sync.

mod properties;
mod solver;
mod supplied;
mod words;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result};
use cedar_policy::{EntityUid, Policy, PolicyId, PolicySet, RequestEnv, Schema};
use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicy, CompiledPolicySet};
use zorg_pdp::{ActionKind, Policies};

use crate::output::Console;
use properties::{Check, Properties, Property};
use solver::Cvc5;
use supplied::Reads;

/// How many failing cases of one property are shown with their counterexample
const SHOWN: usize = 3;

/// `prove`'s arguments
#[derive(Debug, clap::Args)]
pub(crate) struct ProveArgs {
    /// Load the schema and policies from this folder instead of the shipped ones
    #[arg(long)]
    policies: Option<PathBuf>,
    /// The cvc5 executable [default: $CVC5, else `cvc5` on the PATH]
    #[arg(long, value_name = "PATH")]
    solver: Option<PathBuf>,
    /// Give up on one solver query after this many seconds (exit 2)
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=3600))]
    timeout: u32,
    /// The properties file [default: DIR/properties.toml with --policies when
    /// it exists, else the shipped properties]
    properties: Option<PathBuf>,
}

/// A property could not be decided; exit 2, like any input that cannot be used
#[derive(Debug, thiserror::Error)]
enum ProveError {
    /// symcc refused to compile a policy or a bound
    #[error("property `{property}`, {env}: symcc cannot compile {what}: {message}")]
    Compile {
        property: String,
        env: String,
        what: String,
        message: String,
    },
    /// The solver failed, timed out or answered something else
    #[error(
        "property `{property}`, {env}: the solver gave no answer{what}: {message} (a time limit is set with --timeout)"
    )]
    Solver {
        property: String,
        env: String,
        what: String,
        message: String,
    },
    /// Cedar's authorizer does not confirm the solver's counterexample
    #[error(
        "property `{property}`, {env}: the solver's model is not a counterexample ({message}); \
         this is a bug in symcc or cvc5, please report it"
    )]
    BadModel {
        property: String,
        env: String,
        message: String,
    },
}

/// One request environment of the schema
struct Environment {
    env: RequestEnv,
    principal: String,
    action: String,
    /// The action and the action groups it is in
    scope: Vec<EntityUid>,
    /// `Practitioner × view_record × Patient`
    label: String,
}

/// One failing case of a property
struct Finding {
    /// The environment and, for per-policy checks, the policy
    headline: String,
    /// Indented lines: what fails, and the counterexample
    detail: String,
}

/// What proving a property found
enum Outcome {
    Proved {
        environments: usize,
    },
    Failed {
        environments: usize,
        findings: Vec<Finding>,
    },
}

/// `zorg-pdp prove`
pub(crate) fn run(args: &ProveArgs, console: &mut Console) -> Result<ExitCode> {
    let started = Instant::now();
    let policies = crate::load_policies(args.policies.as_deref())?;
    let properties = load_properties(args, policies.cedar_schema())?;
    let cvc5 = Cvc5::find(args.solver.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime for the solver")?;
    // The solver process's pipes belong to the runtime
    let solver = {
        let _in_runtime = runtime.enter();
        cvc5.start(args.timeout)?
    };
    let environments = environments(policies.cedar_schema());
    writeln!(
        console.out,
        "policies: {} ({})",
        args.policies.as_deref().map_or_else(
            || "the shipped set".to_owned(),
            |d| format!("`{}`", d.display())
        ),
        policies.content_hash()
    )?;
    writeln!(
        console.out,
        "properties: {} ({})",
        properties.file,
        properties.properties.len()
    )?;
    writeln!(
        console.out,
        "solver: cvc5 {} (`{}`)",
        cvc5.version,
        cvc5.path.display()
    )?;
    writeln!(
        console.out,
        "request environments: {} (principal type × action × resource type of the schema)",
        environments.len()
    )?;
    let mut prover = Prover {
        compiler: CedarSymCompiler::new(solver)?,
        schema: policies.cedar_schema(),
        policies: policies.cedar_policies(),
        environments: &environments,
        compiled: std::iter::repeat_with(|| None)
            .take(environments.len())
            .collect(),
        queries: 0,
    };
    let (mut held, mut failed) = (0, 0);
    for property in &properties.properties {
        let outcome = runtime.block_on(prover.prove(property))?;
        if report(property, &outcome, console)? {
            held += 1;
        } else {
            failed += 1;
        }
    }
    writeln!(
        console.out,
        "{} properties: {held} proved, {failed} failed ({} solver queries, {:.1} s)",
        held + failed,
        prover.queries,
        started.elapsed().as_secs_f64()
    )?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints what proving `property` found; whether it holds
fn report(property: &Property, outcome: &Outcome, console: &mut Console) -> Result<bool> {
    let rules = if property.rules.is_empty() {
        String::new()
    } else {
        format!(" [{}]", property.rules.join(" "))
    };
    let out = &mut console.out;
    let (environments, findings) = match outcome {
        Outcome::Proved { environments } => {
            writeln!(
                out,
                "proved  {}{rules}: {environments} request environments",
                property.name
            )?;
            return Ok(true);
        }
        Outcome::Failed {
            environments,
            findings,
        } => (environments, findings),
    };
    let cases: BTreeSet<&str> = findings.iter().map(|f| f.headline.as_str()).collect();
    writeln!(
        out,
        "FAILED  {}{rules}: {} failing case{} in {environments} request environments",
        property.name,
        cases.len(),
        if cases.len() == 1 { "" } else { "s" }
    )?;
    if !property.description.is_empty() {
        writeln!(out, "  the property: {}", property.description)?;
    }
    for (n, finding) in findings.iter().enumerate() {
        if n < SHOWN {
            writeln!(
                out,
                "  counterexample {} of {}, {}:",
                n + 1,
                findings.len(),
                finding.headline
            )?;
            write!(out, "{}", finding.detail)?;
        } else {
            writeln!(out, "  also fails: {}", finding.headline)?;
        }
    }
    Ok(false)
}

/// The properties file the arguments name, parsed against the schema
fn load_properties(args: &ProveArgs, schema: &Schema) -> Result<Properties> {
    let named = args.properties.clone().or_else(|| {
        args.policies
            .as_deref()
            .map(|d| d.join(properties::FILE_NAME))
            .filter(|p| p.is_file())
    });
    Ok(match named {
        Some(path) => {
            let text = properties::read(&path)?;
            properties::parse(&text, &path.display().to_string(), schema)?
        }
        None => properties::parse(
            properties::SHIPPED,
            "the shipped policies/properties.toml",
            schema,
        )?,
    })
}

/// Every request environment the schema declares, in a fixed order
fn environments(schema: &Schema) -> Vec<Environment> {
    let groups = schema.action_entities().ok();
    let mut out: Vec<Environment> = schema
        .request_envs()
        .map(|env| {
            let principal = env.principal().to_string();
            let action = env.action().id().unescaped().to_owned();
            let label = format!("{principal} × {action} × {}", env.resource());
            let mut scope = vec![env.action().clone()];
            if let Some(ancestors) = groups.as_ref().and_then(|g| g.ancestors(env.action())) {
                scope.extend(ancestors.cloned());
            }
            Environment {
                env,
                principal,
                action,
                scope,
                label,
            }
        })
        .collect();
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out
}

/// Whether `policy`'s scope can match a request of environment `e`: when
/// it cannot, the policy matches nothing there, so it neither errs nor reads
/// anything (and symcc need not be asked)
fn in_scope(policy: &Policy, e: &Environment) -> bool {
    use cedar_policy::{ActionConstraint as A, PrincipalConstraint as P, ResourceConstraint as R};
    let principal = e.env.principal();
    let resource = e.env.resource();
    let principal_ok = match policy.principal_constraint() {
        P::Is(ty) | P::IsIn(ty, _) => &ty == principal,
        P::Eq(uid) => uid.type_name() == principal,
        P::Any | P::In(_) => true,
    };
    let resource_ok = match policy.resource_constraint() {
        R::Is(ty) | R::IsIn(ty, _) => &ty == resource,
        R::Eq(uid) => uid.type_name() == resource,
        R::Any | R::In(_) => true,
    };
    let action_ok = match policy.action_constraint() {
        A::Any => true,
        A::Eq(uid) => &uid == e.env.action(),
        A::In(list) => list.iter().any(|a| e.scope.contains(a)),
    };
    principal_ok && resource_ok && action_ok
}

struct Prover<'a> {
    compiler: CedarSymCompiler<LocalSolver>,
    schema: &'a Schema,
    policies: &'a PolicySet,
    environments: &'a [Environment],
    /// The policy set compiled for each environment, once
    compiled: Vec<Option<CompiledPolicySet>>,
    /// Questions put to the solver so far
    queries: usize,
}

impl<'a> Prover<'a> {
    async fn prove(&mut self, property: &Property) -> Result<Outcome, ProveError> {
        let environments: &'a [Environment] = self.environments;
        let selected: Vec<(usize, &'a Environment)> = environments
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                property
                    .actions
                    .as_ref()
                    .is_none_or(|a| a.contains(&e.action))
                    && property
                        .principals
                        .as_ref()
                        .is_none_or(|p| p.contains(&e.principal))
            })
            .collect();
        let mut findings = Vec::new();
        for &(i, e) in &selected {
            let found = match property.check {
                Check::Implies => self.implies(property, i, e).await?,
                Check::NeverErrors => self.never_errors(property, e).await?,
                Check::SuppliedFacts => self.supplied_facts(property, e).await?,
            };
            findings.extend(found);
        }
        Ok(if findings.is_empty() {
            Outcome::Proved {
                environments: selected.len(),
            }
        } else {
            Outcome::Failed {
                environments: selected.len(),
                findings,
            }
        })
    }

    /// Every request the policies allow in environment `e` (number `i`), the bound allows
    async fn implies(
        &mut self,
        property: &Property,
        i: usize,
        e: &Environment,
    ) -> Result<Vec<Finding>, ProveError> {
        let compile_error = |what: &str, err: &dyn std::fmt::Display| ProveError::Compile {
            property: property.name.clone(),
            env: e.label.clone(),
            what: what.to_owned(),
            message: err.to_string(),
        };
        if self.compiled.get(i).is_some_and(Option::is_none) {
            let set = CompiledPolicySet::compile(self.policies, &e.env, self.schema)
                .map_err(|err| compile_error("the policies", &err))?;
            if let Some(slot) = self.compiled.get_mut(i) {
                *slot = Some(set);
            }
        }
        let bound = CompiledPolicySet::compile(&property.bound, &e.env, self.schema)
            .map_err(|err| compile_error("the bound", &err))?;
        let Some(Some(set)) = self.compiled.get(i) else {
            return Ok(Vec::new());
        };
        self.queries += 1;
        let answer = self
            .compiler
            .check_implies_with_counterexample_opt(set, &bound)
            .await
            .map_err(|err| solver_error(property, e, "", &err))?;
        let Some(cx) = answer else {
            return Ok(Vec::new());
        };
        let allowed = words::authorize(&cx, self.policies);
        let bounded = words::authorize(&cx, &property.bound);
        if !allowed.allowed || bounded.allowed {
            return Err(ProveError::BadModel {
                property: property.name.clone(),
                env: e.label.clone(),
                message: format!(
                    "Cedar says the policies {} it and the bound {} it",
                    if allowed.allowed { "allow" } else { "deny" },
                    if bounded.allowed { "allows" } else { "denies" }
                ),
            });
        }
        let by = |ids: &[PolicyId]| {
            ids.iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let denied_by = if bounded.by.is_empty() {
            "no permit of the property's bound matches it".to_owned()
        } else {
            let at: Vec<String> = bounded
                .by
                .iter()
                .map(|id| {
                    property.origins.get(&id.to_string()).map_or_else(
                        || format!("`{id}`"),
                        |o| format!("the forbid at {} ({}) denies it", o.at, o.place),
                    )
                })
                .collect();
            at.join(" and ")
        };
        let detail = format!(
            "    the policies allow it (by {}); {denied_by}\n{}",
            by(&allowed.by),
            words::describe(&cx, &[], "    ")
        );
        Ok(vec![Finding {
            headline: e.label.clone(),
            detail,
        }])
    }

    /// No policy errors on any input of environment `e`
    async fn never_errors(
        &mut self,
        property: &Property,
        e: &Environment,
    ) -> Result<Vec<Finding>, ProveError> {
        let (label, env) = (e.label.clone(), e.env.clone());
        let mut findings = Vec::new();
        for policy in self.policies.policies().filter(|p| in_scope(p, e)) {
            let compiled = self.compile_policy(property, policy, &label, &env)?;
            self.queries += 1;
            let answer = self
                .compiler
                .check_never_errors_with_counterexample_opt(&compiled)
                .await
                .map_err(|err| solver_error(property, e, &for_policy(policy), &err))?;
            let Some(cx) = answer else { continue };
            let alone = single(policy);
            let verdict = words::authorize(&cx, &alone);
            let Some(error) = verdict.errors.first() else {
                return Err(ProveError::BadModel {
                    property: property.name.clone(),
                    env: label,
                    message: format!("Cedar evaluates `{}` without an error", policy.id()),
                });
            };
            findings.push(Finding {
                headline: format!("{label}, policy `{}`", policy.id()),
                detail: format!(
                    "    `{}` errors: {error}\n{}",
                    policy.id(),
                    words::describe(&cx, &[], "    ")
                ),
            });
        }
        Ok(findings)
    }

    /// No policy's answer in environment `e` depends on an attribute the
    /// engine does not supply for the action (see `supplied`)
    async fn supplied_facts(
        &mut self,
        property: &Property,
        e: &Environment,
    ) -> Result<Vec<Finding>, ProveError> {
        let (label, env, action) = (e.label.clone(), e.env.clone(), e.action.clone());
        // An action the engine does not send gets nothing at all
        let context: Vec<&str> =
            ActionKind::from_name(&action).map_or_else(Vec::new, Policies::supplied_context);
        let entity: Vec<&str> = ["Practitioner", "Patient", "Organisation"]
            .into_iter()
            .flat_map(Policies::supplied_attributes)
            .collect();
        let mut findings = Vec::new();
        for policy in self.policies.policies().filter(|p| in_scope(p, e)) {
            let reads = supplied::rewrite(policy, &context, &entity).map_err(|message| {
                ProveError::Compile {
                    property: property.name.clone(),
                    env: label.clone(),
                    what: for_policy(policy),
                    message,
                }
            })?;
            let (names, rewritten) = match reads {
                Reads::OnlySupplied => continue,
                Reads::WholeContext => {
                    if self
                        .matches_somewhere(property, policy, &label, &env)
                        .await?
                    {
                        findings.push(Finding {
                            headline: format!("{label}, policy `{}`", policy.id()),
                            detail: format!(
                                "    `{}` uses the `context` record as a whole, so it reads every attribute, also those the engine never supplies for `{action}`\n",
                                policy.id()
                            ),
                        });
                    }
                    continue;
                }
                Reads::Unsupplied { names, rewritten } => (names, rewritten),
            };
            let original = self.compile_policy(property, policy, &label, &env)?;
            let absent = self.compile_policy(property, &rewritten, &label, &env)?;
            self.queries += 1;
            let answer = self
                .compiler
                .check_matches_equivalent_with_counterexample_opt(&original, &absent)
                .await
                .map_err(|err| solver_error(property, e, &for_policy(policy), &err))?;
            let Some(cx) = answer else { continue };
            let as_given = words::matched(&words::authorize(&cx, &single(policy)), policy.id());
            let as_sent = words::matched(&words::authorize(&cx, &single(&rewritten)), policy.id());
            if as_given == as_sent {
                return Err(ProveError::BadModel {
                    property: property.name.clone(),
                    env: label,
                    message: format!(
                        "Cedar finds `{}` {} with and without the attributes",
                        policy.id(),
                        if as_given { "matching" } else { "not matching" }
                    ),
                });
            }
            let unsupplied: Vec<&str> = names
                .iter()
                .filter_map(|n| n.strip_prefix("context."))
                .collect();
            let yes_no = |m: bool| if m { "matches" } else { "does not match" };
            findings.push(Finding {
                headline: format!("{label}, policy `{}`", policy.id()),
                detail: format!(
                    "    `{}` reads {}, which the engine never supplies for `{action}`: on this input it {}, and it {} with {} absent, as in every request the engine sends\n{}",
                    policy.id(),
                    names.join(", "),
                    yes_no(as_given),
                    yes_no(as_sent),
                    if names.len() == 1 { "it" } else { "them" },
                    words::describe(&cx, &unsupplied, "    ")
                ),
            });
        }
        Ok(findings)
    }

    /// Whether `policy` matches some input of the environment (a policy
    /// that never does reads nothing)
    async fn matches_somewhere(
        &mut self,
        property: &Property,
        policy: &Policy,
        label: &str,
        env: &RequestEnv,
    ) -> Result<bool, ProveError> {
        let compiled = self.compile_policy(property, policy, label, env)?;
        self.queries += 1;
        let never = self
            .compiler
            .check_never_matches_opt(&compiled)
            .await
            .map_err(|err| ProveError::Solver {
                property: property.name.clone(),
                env: label.to_owned(),
                what: for_policy(policy),
                message: err.to_string(),
            })?;
        Ok(!never)
    }

    fn compile_policy(
        &self,
        property: &Property,
        policy: &Policy,
        label: &str,
        env: &RequestEnv,
    ) -> Result<CompiledPolicy, ProveError> {
        CompiledPolicy::compile(policy, env, self.schema).map_err(|err| ProveError::Compile {
            property: property.name.clone(),
            env: label.to_owned(),
            what: format!("policy `{}`", policy.id()),
            message: err.to_string(),
        })
    }
}

/// ``  for policy `id` ``: to follow what the solver was asked
fn for_policy(policy: &Policy) -> String {
    format!(" for policy `{}`", policy.id())
}

fn solver_error(
    property: &Property,
    e: &Environment,
    what: &str,
    err: &cedar_policy_symcc::err::Error,
) -> ProveError {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    ProveError::Solver {
        property: property.name.clone(),
        env: e.label.clone(),
        what: what.to_owned(),
        message,
    }
}

/// A policy set of one policy
fn single(policy: &Policy) -> PolicySet {
    let mut set = PolicySet::new();
    // One policy cannot clash with itself
    let _ = set.add(policy.clone());
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_environment_of_the_shipped_schema_is_listed_once() {
        let policies = Policies::shipped().unwrap();
        let envs = environments(policies.cedar_schema());
        // 3 principal types × 12 actions × 1 resource type
        assert_eq!(envs.len(), 36);
        let labels: BTreeSet<&str> = envs.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(labels.len(), 36);
        assert!(labels.contains("Practitioner × view_record × Patient"));
        assert!(labels.contains("Organisation × use_for_research × Patient"));
    }

    #[test]
    fn a_policy_is_asked_about_only_where_its_scope_can_match() {
        let policies = Policies::shipped().unwrap();
        let envs = environments(policies.cedar_schema());
        let policy = |id: &str| {
            policies
                .cedar_policies()
                .policy(&PolicyId::new(id))
                .unwrap()
                .clone()
        };
        let scoped = |id: &str| -> Vec<&str> {
            let p = policy(id);
            envs.iter()
                .filter(|e| in_scope(&p, e))
                .map(|e| e.label.as_str())
                .collect()
        };
        assert_eq!(scoped("forbid-without-mfa").len(), 36);
        assert_eq!(
            scoped("permit-view-own-dossier"),
            [
                "Practitioner × view × Patient",
                "Practitioner × view_record × Patient"
            ]
        );
        assert_eq!(
            scoped("forbid-flagged-record"),
            [
                "Organisation × view_own × Patient",
                "Organisation × view_record × Patient",
                "Patient × view_own × Patient",
                "Patient × view_record × Patient",
                "Practitioner × view_own × Patient",
                "Practitioner × view_record × Patient"
            ]
        );
    }

    #[test]
    fn the_engine_supplies_what_the_schema_of_each_action_declares_but_module_of_view() {
        // The check is not a tautology of strict validation on the shipped
        // schema: `view` shares `DataContext` (with `module?`) but is never
        // sent a module
        let view = Policies::supplied_context(ActionKind::View);
        let record = Policies::supplied_context(ActionKind::ViewRecord);
        assert!(!view.contains(&"module") && record.contains(&"module"));
    }
}
