package io.portcullis.policy;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelIssue;
import dev.cel.common.CelSourceLocation;
import dev.cel.common.CelValidationResult;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.portcullis.policy.config.ConfigIssue;
import io.portcullis.policy.config.SourceMap;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The CEL environments (DESIGN.md §3): {@code token}, {@code app}, {@code request} for conditions, plus {@code row}
 * for row filters, and {@code value} for {@code cel:} masks; CEL's string extensions ({@code substring}, …) are on. All variables are maps of dyn: the token's attrs are
 * free-form, and the push-down check below, not CEL's type checker, is what restricts row filters.
 */
final class CelEnv {
  private static final MapType MAP_DYN = MapType.create(SimpleType.STRING, SimpleType.DYN);

  static final CelCompiler CONDITIONS = CelCompilerFactory.standardCelCompilerBuilder()
      .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
      .addLibraries(CelExtensions.strings())
      .addVar("token", MAP_DYN)
      .addVar("app", MAP_DYN)
      .addVar("request", MAP_DYN)
      .setResultType(SimpleType.BOOL)
      .build();

  static final CelCompiler ROW_FILTERS = CONDITIONS.toCompilerBuilder().addVar("row", MAP_DYN).build();

  static final CelCompiler MASKS = CelCompilerFactory.standardCelCompilerBuilder()
      .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
      .addLibraries(CelExtensions.strings())
      .addVar("value", SimpleType.DYN)
      .build();

  static final CelRuntime RUNTIME =
      CelRuntimeFactory.standardCelRuntimeBuilder().addLibraries(CelExtensions.strings()).build();

  private CelEnv() {}

  /** Where the issues of one expression go: its config path and the map back to the YAML source. */
  record Site(SourceMap sourceMap, String path, List<ConfigIssue> issues) {
    void issue(String message) {
      issues.add(sourceMap.issue(path, message));
    }

    /** An issue at the position of {@code expr} inside the expression text. */
    void issue(CelAbstractSyntaxTree ast, CelExpr expr, String message) {
      Integer offset = ast.getSource().getPositionsMap().get(expr.id());
      CelSourceLocation loc = offset == null ? null : ast.getSource().getOffsetLocation(offset).orElse(null);
      if (loc == null) {
        issue(message);
      } else {
        issues.add(sourceMap.issueInExpression(path, loc.getLine(), loc.getColumn() + 1, message));
      }
    }
  }

  /** Parses and type-checks; on failure records every CEL issue at its position and returns null. */
  static @Nullable CelAbstractSyntaxTree compile(CelCompiler compiler, String expression, Site site) {
    CelValidationResult result = compiler.compile(expression, site.path());
    if (result.hasError()) {
      for (CelIssue i : result.getErrors()) {
        CelSourceLocation loc = i.getSourceLocation();
        if (loc == null || loc.getLine() <= 0) {
          site.issue("CEL: " + i.getMessage());
        } else {
          site.issues().add(site.sourceMap().issueInExpression(
              site.path(), loc.getLine(), loc.getColumn() + 1, "CEL: " + i.getMessage()));
        }
      }
      return null;
    }
    try {
      return result.getAst();
    } catch (dev.cel.common.CelValidationException e) {
      site.issue("CEL: " + e.getMessage());
      return null;
    }
  }

  static CelRuntime.@Nullable Program program(CelAbstractSyntaxTree ast, Site site) {
    try {
      return RUNTIME.createProgram(ast);
    } catch (CelEvaluationException e) {
      site.issue("CEL: " + e.getMessage());
      return null;
    }
  }
}
