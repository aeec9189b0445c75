package io.portcullis.gateway.policy;

import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.Decision;
import io.portcullis.policy.DenyCode;

/** Maps a policy deny to the problem the client sees, naming the policies that decided. */
final class PolicyProblems {

  private PolicyProblems() {
  }

  static ProblemException toProblem(Decision decision) {
    DenyCode deny = decision.denyCode();
    ProblemCode code = deny == null ? ProblemCode.POLICY_DENIED : switch (deny) {
      case SCOPE_MISSING -> ProblemCode.SCOPE_MISSING;
      case POLICY_DENIED -> ProblemCode.POLICY_DENIED;
      case CONSENT_MISSING -> ProblemCode.CONSENT_MISSING;
      case APPROVAL_MISSING -> ProblemCode.APPROVAL_MISSING;
      case UNKNOWN_DATASET -> ProblemCode.UNKNOWN_DATASET;
      case APP_PAUSED -> ProblemCode.APP_PAUSED;
      case METHOD_NOT_ALLOWED -> ProblemCode.METHOD_NOT_ALLOWED;
    };
    String policy = decision.policyIds().isEmpty() ? null : String.join(",", decision.policyIds());
    return new ProblemException(code, decision.reason(), policy);
  }
}
