# Reference fit of the SAP's primary model with R: lme4 + lmerTest + emmeans.
#
#   Rscript scripts/lmer_reference.R fit   IN.csv OUT.csv [tight|default]
#   Rscript scripts/lmer_reference.R bench IN.csv OUT.csv REPS
#
# IN.csv: outcome, participant_id, arm, visit, aval, base, fas (0/1), control, active, visits
# (control/active: the arm labels, e.g. placebo/MgT or A/B; visits: the visit levels, "|"-separated).
# fit:   one row per outcome and visit: contrast active - control (emmeans, Satterthwaite df),
#        adjusted means at base_c = 0 (SAP: the mean baseline of the model rows), the joint
#        visit:arm F test (lmerTest::contestMD), sigma_b, sigma_e, whether the fit is singular
#        and how many rank-deficient fixed-effect columns lme4 dropped.
#        The means are asked for at base_c = 0 explicitly: emmeans' default reference grid
#        (cov.keep = "2") treats a covariate with only two distinct values as a factor and
#        averages over those two values, i.e. evaluates at their midpoint, not at their mean.
#        "tight" tightens the optimizer (xtol_abs 1e-12) so the comparison tests the maths,
#        not lme4's default stopping rule.
# bench: seconds per lme4::lmer fit per outcome (the mean of REPS fits timed inside R, so R's
#        start-up is not counted) and the week_3 contrast of the last fit.
suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(emmeans)
})
emm_options(lmer.df = "satterthwaite", lmerTest.limit = 1e6)
source(file.path(dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1]))),
                 "r_reference_common.R"))

args <- commandArgs(trailingOnly = TRUE)
mode <- args[1]
d <- read.csv(args[2], stringsAsFactors = FALSE)
out_file <- args[3]
formula <- aval ~ base_c + visit + arm + visit:arm + (1 | participant_id)

model_rows <- sap_model_rows

fit_outcome <- function(rows, control) {
  m <- lmerTest::lmer(formula, data = rows, REML = TRUE, control = control)
  emm <- emmeans(m, ~ arm | visit, at = list(base_c = 0))
  con <- as.data.frame(summary(contrast(emm, method = list(active_minus_control = c(-1, 1)))))
  means <- as.data.frame(summary(emm))
  ctl <- means[means$arm == levels(rows$arm)[1], ]
  act <- means[means$arm == levels(rows$arm)[2], ]
  beta <- fixef(m)
  L <- matrix(0, 2, length(beta))
  L[1, grep("visitweek_2:arm", names(beta))] <- 1
  L[2, grep("visitweek_3:arm", names(beta))] <- 1
  joint <- lmerTest::contestMD(m, L)
  vc <- as.data.frame(VarCorr(m))
  data.frame(
    outcome = rows$outcome[1], visit = as.character(con$visit),
    estimate = con$estimate, se = con$SE, df = con$df, p_value = con$p.value,
    mean_control = ctl$emmean, mean_control_se = ctl$SE, mean_control_df = ctl$df,
    mean_control_ci_low = ctl$lower.CL, mean_control_ci_high = ctl$upper.CL,
    mean_active = act$emmean, mean_active_se = act$SE, mean_active_df = act$df,
    mean_active_ci_low = act$lower.CL, mean_active_ci_high = act$upper.CL,
    interaction_f = joint[["F value"]], interaction_ddf = joint[["DenDF"]],
    interaction_p = joint[["Pr(>F)"]],
    sigma_b = vc$sdcor[vc$grp == "participant_id"], sigma_e = sigma(m),
    singular = isSingular(m),
    dropped_columns = length(attr(getME(m, "X"), "col.dropped"))
  )
}

by_outcome <- split(d, d$outcome)
if (mode == "fit") {
  control <- if (length(args) >= 4 && args[4] == "default") lmerControl() else
    lmerControl(optimizer = "nloptwrap",
                optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 1e-12, maxeval = 1e5))
  write.csv(fit_each_outcome(by_outcome, function(rows) fit_outcome(model_rows(rows), control)),
            out_file, row.names = FALSE)
} else if (mode == "bench") {
  reps <- as.integer(args[4])
  timed <- lapply(by_outcome, function(rows) {
    rows <- model_rows(rows)
    m <- lme4::lmer(formula, data = rows, REML = TRUE)  # warm-up
    start <- proc.time()[["elapsed"]]
    for (i in seq_len(reps)) m <- lme4::lmer(formula, data = rows, REML = TRUE)
    beta <- fixef(m)
    data.frame(outcome = rows$outcome[1], seconds = (proc.time()[["elapsed"]] - start) / reps,
               week_3_estimate = sum(beta[grep("^arm|^visitweek_3:arm", names(beta))]))
  })
  write.csv(do.call(rbind, timed), out_file, row.names = FALSE)
} else {
  stop("mode must be 'fit' or 'bench'")
}
