# Kenward-Roger reference for the SAP's MMRM with R's mmrm package (optional: not on CRAN mirrors here;
# compare_with_r.py runs it only when library(mmrm) loads).
#
#   Rscript scripts/mmrm_kr_reference.R fit IN.csv OUT.csv
#
# IN.csv as gls_reference.R reads it. One row per outcome and visit: the contrast active - control,
# its Kenward-Roger SE and df (mmrm's "Kenward-Roger-Linear" covariance: SAS's KR for TYPE=UN, whose
# parameters are linear) and mmrm's REML deviance, from
# mmrm(aval ~ base_c + visit + arm + visit:arm + us(visit | participant_id), method = "Kenward-Roger").
suppressPackageStartupMessages(library(mmrm))
source(file.path(dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1]))),
                 "r_reference_common.R"))

args <- commandArgs(trailingOnly = TRUE)
stopifnot(args[1] == "fit")
d <- read.csv(args[2], stringsAsFactors = FALSE)

fit_outcome <- function(rows) {
  rows <- sap_model_rows(rows)
  visits <- levels(rows$visit)
  rows$participant_id <- factor(rows$participant_id)
  fit <- mmrm(aval ~ base_c + visit + arm + visit:arm + us(visit | participant_id), data = rows,
              control = mmrm_control(method = "Kenward-Roger", vcov = "Kenward-Roger-Linear"))
  beta <- coef(fit)
  active <- paste0("arm", levels(rows$arm)[2])
  do.call(rbind, lapply(seq_along(visits), function(k) {
    L <- setNames(numeric(length(beta)), names(beta))
    L[active] <- 1
    if (k > 1) L[paste0("visit", visits[k], ":", active)] <- 1
    r <- df_1d(fit, L)
    data.frame(outcome = rows$outcome[1], visit = visits[k], estimate = r$est, se = r$se, df = r$df,
               deviance = deviance(fit))
  }))
}

write.csv(fit_each_outcome(split(d, d$outcome), fit_outcome), args[3], row.names = FALSE)
