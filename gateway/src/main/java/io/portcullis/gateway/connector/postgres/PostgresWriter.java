package io.portcullis.gateway.connector.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import io.portcullis.gateway.pipeline.RequestContext;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.ColumnPlan;
import io.portcullis.policy.Decision;
import io.portcullis.policy.PlannedColumn;
import io.portcullis.policy.TokenClaims;
import io.portcullis.policy.model.Column;
import io.portcullis.policy.model.ColumnType;
import io.portcullis.policy.model.Dataset;
import io.portcullis.policy.model.PostgresSource;
import io.portcullis.policy.model.Template;
import io.portcullis.policy.model.TemplateColumns;
import io.r2dbc.postgresql.api.PostgresqlException;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.util.UriComponentsBuilder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes to a PostgreSQL-backed dataset (DESIGN.md §2 templates, §6 Data API), each only as its template allows:
 *
 * <ul>
 *   <li>{@code form-submission}: append only — POST; PATCH and DELETE are {@code method_not_allowed}.
 *   <li>{@code directory}: POST with the owner column taken from the token's {@code owner_id} (never from the body),
 *       PATCH of the other columns, DELETE as a soft delete (sets the soft-delete column; reads skip such rows).
 *   <li>{@code approval-queue}: POST creates in {@code requested}; PATCH changes only the state column, along
 *       {@code requested → reviewing → approved | rejected}, only by the row's reviewer (the token's
 *       {@code reviewer_id}); each transition also inserts {@code (approval_id, from_status, to_status, actor_id)} into
 *       the dataset's history table in the same transaction. Requests are never deleted ({@code method_not_allowed}).
 *   <li>{@code custom}: what the grant allows; DELETE is soft when the dataset names a soft-delete column.
 * </ul>
 *
 * <p>Every write is scoped by the decision's row filter, and a written row must still satisfy it (else the
 * transaction is rolled back: {@code policy_denied}). Columns the policy hides, the key and the columns the template
 * manages cannot be written; a masked column can be given a value when a row is created (a write-only field) but
 * never changed. Bodies are JSON objects of at most {@code maxBodyBytes}, validated against the
 * dataset's contract; every problem with a body is reported at once with its JSON pointer.
 *
 * <p>A write is bounded by its dataset's {@code statement_timeout} (the gateway default when it sets none), like a
 * read: PostgreSQL itself cancels a statement that runs or waits for a lock longer ({@code SET LOCAL
 * statement_timeout} in the write's transaction), so the transaction rolls back in the server — nothing
 * half-written — and the client gets {@code upstream_unavailable} (504) instead of waiting on another transaction.
 */
public final class PostgresWriter {

  /** 64 KiB: far above any row a micro-app form writes, small enough that parsing it is cheap on the event loop. */
  public static final int DEFAULT_MAX_BODY_BYTES = 64 * 1024;

  /**
   * How much longer than the statement timeout the gateway waits for the whole write before giving up on its own: the
   * server's timeout is what normally ends a stuck write (cleanly, with a rollback); this only covers a server or
   * network that stops answering altogether, and a transaction of several statements that each stay just under it.
   */
  static final Duration CLIENT_GRACE = Duration.ofSeconds(1);

  private final SourcePools pools;
  private final Duration statementTimeout;
  private final int maxBodyBytes;
  private final ContractValidator contracts = new ContractValidator();
  private final ObjectMapper json = JsonMapper.builder().build();

  public PostgresWriter(SourcePools pools, Duration statementTimeout, int maxBodyBytes) {
    this.pools = Objects.requireNonNull(pools, "pools");
    this.statementTimeout = Objects.requireNonNull(statementTimeout, "statementTimeout");
    if (maxBodyBytes < 2) {
      throw new IllegalArgumentException("maxBodyBytes: %s (expected: >= 2)".formatted(maxBodyBytes));
    }
    this.maxBodyBytes = maxBodyBytes;
  }

  // ---------------------------------------------------------------------------------------------------- create

  public Mono<ServerResponse> create(ServerRequest request, Dataset dataset, PostgresSource source, Decision decision) {
    RequestContext ctx = RequestContext.of(request.exchange());
    TokenClaims claims = claims(ctx);
    return JsonBodyReader.read(request, maxBodyBytes).flatMap(body -> {
      ColumnPlan plan = decision.columns();
      List<BodyViolation> violations = new ArrayList<>();
      List<WriteStatement.Assignment> assignments = new ArrayList<>();
      TemplateColumns roles = dataset.roles();
      Column key = column(dataset, source.key());
      if (key.type() == ColumnType.UUID) {
        // The gateway picks keys: a client cannot aim a create at an existing or foreseeable id. Other key types
        // come from the table's default (a sequence).
        assignments.add(WriteStatement.Assignment.value(key.name(), key.type(), UUID.randomUUID()));
      }
      for (Map.Entry<String, JsonNode> field : body.properties()) {
        String name = field.getKey();
        String pointer = BodyViolation.pointerTo(name);
        if (dataset.template() == Template.APPROVAL_QUEUE && name.equals(roles.state()) && plan.column(name) != null) {
          if (!(field.getValue().isTextual() && ApprovalState.REQUESTED.wire().equals(field.getValue().textValue()))) {
            violations.add(new BodyViolation(pointer, "'" + name + "' starts as 'requested' and changes only through "
                + "PATCH transitions"));
          }
          continue;
        }
        String refusal = notWritable(dataset, source, plan, name, true);
        if (refusal != null) {
          violations.add(new BodyViolation(pointer, refusal));
          continue;
        }
        Column column = column(dataset, name);
        try {
          assignments.add(WriteStatement.Assignment.value(name, column.type(),
              BodyValues.convert(column, field.getValue())));
        } catch (BodyValues.Unfit e) {
          violations.add(new BodyViolation(pointer, e.getMessage()));
        }
      }
      throwIfAny(merge(violations, contracts.validate(dataset, decision.configVersion(), body, false)));
      if (dataset.template() == Template.DIRECTORY && roles.owner() != null && dataset.column(roles.owner()) != null) {
        Column owner = column(dataset, roles.owner());
        assignments.add(WriteStatement.Assignment.value(owner.name(), owner.type(),
            tokenAttr(claims, "owner_id", owner)));
      }
      if (dataset.template() == Template.APPROVAL_QUEUE && roles.state() != null) {
        Column state = column(dataset, roles.state());
        assignments.add(WriteStatement.Assignment.value(state.name(), state.type(), ApprovalState.REQUESTED.wire()));
      }
      if (roles.createdAt() != null && dataset.column(roles.createdAt()) != null) {
        assignments.add(WriteStatement.Assignment.now(roles.createdAt(), column(dataset, roles.createdAt()).type()));
      }
      Returned returned = returned(plan, source.key());
      WriteStatement statement = WriteStatement.insert(PostgresReader.qualified(source), decision.rowFilter(),
          assignments, returned.fetched());
      ctx.queryFingerprint(SelectStatement.fingerprint(decision.rowFilter().fingerprint() + "|" + statement.sql()));
      return inTransaction(source, timeout(dataset), c -> writtenRow(c, statement, returned, plan), plan)
          .flatMap(row -> {
            byte[] encoded = returned.encoder(plan).encode(row);
            ctx.addRow(encoded.length);
            Object id = row[returned.keyIndex()];
            URI location = UriComponentsBuilder.fromPath("/data/{dataset}/{id}")
                .buildAndExpand(dataset.name(), String.valueOf(id)).encode().toUri();
            return ServerResponse.created(location).contentType(MediaType.APPLICATION_JSON)
                .headers(h -> h.addAll(returned.maskedHeader(plan))).bodyValue(encoded);
          });
    });
  }

  // ---------------------------------------------------------------------------------------------------- update

  public Mono<ServerResponse> update(ServerRequest request, Dataset dataset, PostgresSource source, Decision decision,
      String id) {
    RequestContext ctx = RequestContext.of(request.exchange());
    TokenClaims claims = claims(ctx);
    if (dataset.template() == Template.FORM_SUBMISSION) {
      return Mono.error(methodNotAllowed(dataset, "submissions are append-only"));
    }
    Object keyValue = ColumnValues.parse(column(dataset, source.key()).type(), id, source.key());
    return JsonBodyReader.read(request, maxBodyBytes).flatMap(body -> {
      if (dataset.template() == Template.APPROVAL_QUEUE) {
        return transition(ctx, claims, body, dataset, source, decision, keyValue);
      }
      ColumnPlan plan = decision.columns();
      List<BodyViolation> violations = new ArrayList<>();
      List<WriteStatement.Assignment> assignments = new ArrayList<>();
      for (Map.Entry<String, JsonNode> field : body.properties()) {
        String name = field.getKey();
        String refusal = notWritable(dataset, source, plan, name, false);
        if (refusal != null) {
          violations.add(new BodyViolation(BodyViolation.pointerTo(name), refusal));
          continue;
        }
        Column column = column(dataset, name);
        try {
          assignments.add(WriteStatement.Assignment.value(name, column.type(),
              BodyValues.convert(column, field.getValue())));
        } catch (BodyValues.Unfit e) {
          violations.add(new BodyViolation(BodyViolation.pointerTo(name), e.getMessage()));
        }
      }
      violations = merge(violations, contracts.validate(dataset, decision.configVersion(), body, true));
      if (violations.isEmpty() && assignments.isEmpty()) {
        violations = List.of(new BodyViolation("", "the body changes no column"));
      }
      throwIfAny(violations);
      Returned returned = returned(plan, source.key());
      WriteStatement statement = WriteStatement.update(PostgresReader.qualified(source), decision.rowFilter(),
          dataset.roles().softDelete(), source.key(), keyValue, assignments, returned.fetched());
      ctx.queryFingerprint(SelectStatement.fingerprint(decision.rowFilter().fingerprint() + "|" + statement.sql()));
      return inTransaction(source, timeout(dataset), c -> writtenRow(c, statement, returned, plan), plan)
          .switchIfEmpty(Mono.error(() -> notFound(dataset)))
          .flatMap(row -> ok(ctx, returned, plan, row));
    });
  }

  /** approval-queue PATCH: lock the row, check reviewer and transition, update, write history, in one transaction. */
  private Mono<ServerResponse> transition(RequestContext ctx, TokenClaims claims, JsonNode body, Dataset dataset,
      PostgresSource source, Decision decision, Object keyValue) {
    TemplateColumns roles = dataset.roles();
    String stateColumn = Objects.requireNonNull(roles.state(), "approval-queue dataset without a state column");
    ColumnPlan plan = decision.columns();
    List<BodyViolation> violations = new ArrayList<>();
    ApprovalState target = null;
    for (Map.Entry<String, JsonNode> field : body.properties()) {
      String name = field.getKey();
      String pointer = BodyViolation.pointerTo(name);
      if (name.equals(stateColumn) && plan.column(name) != null && plan.column(name).mask() == null) {
        JsonNode v = field.getValue();
        target = v.isTextual() ? ApprovalState.parse(v.textValue()) : null;
        if (target == null) {
          violations.add(new BodyViolation(pointer, "expected one of " + ApprovalState.CHOICES));
        }
        continue;
      }
      String refusal = notWritable(dataset, source, plan, name, false);
      violations.add(new BodyViolation(pointer, refusal != null ? refusal
          : "only '" + stateColumn + "' changes in an approval-queue dataset, through its transitions"));
    }
    if (target == null && violations.isEmpty()) {
      violations.add(new BodyViolation(BodyViolation.pointerTo(stateColumn), "the body must name the new '"
          + stateColumn + "' (" + ApprovalState.CHOICES + ")"));
    }
    throwIfAny(merge(violations, contracts.validate(dataset, decision.configVersion(), body, true)));
    ApprovalState next = target;
    String reviewerColumn = roles.reviewer() != null && dataset.column(roles.reviewer()) != null ? roles.reviewer() : null;
    String reviewer = reviewerColumn == null ? null : tokenText(claims, "reviewer_id");
    if (reviewerColumn != null && reviewer == null) {
      return Mono.error(new ProblemException(ProblemCode.POLICY_DENIED,
          "only the assigned reviewer may move a request; the token carries no reviewer_id"));
    }
    String table = PostgresReader.qualified(source);
    List<String> locked = reviewerColumn == null ? List.of(stateColumn) : List.of(stateColumn, reviewerColumn);
    WriteStatement lock = WriteStatement.lockForTransition(table, decision.rowFilter(), roles.softDelete(),
        source.key(), keyValue, locked);
    Returned returned = returned(plan, source.key());
    WriteStatement change = WriteStatement.transition(table, source.key(), keyValue,
        List.of(WriteStatement.Assignment.value(stateColumn, column(dataset, stateColumn).type(), next.wire())),
        returned.fetched());
    ctx.queryFingerprint(SelectStatement.fingerprint(decision.rowFilter().fingerprint() + "|" + change.sql()));
    return inTransaction(source, timeout(dataset), c -> Flux.from(bound(c, lock).execute())
            .flatMap(result -> result.map((row, meta) -> new String[] {
                row.get(0, String.class), reviewerColumn == null ? null : row.get(1, String.class)}))
            .next()
            .switchIfEmpty(Mono.error(() -> notFound(dataset)))
            .flatMap(current -> {
              if (reviewerColumn != null && !reviewer.equals(current[1])) {
                return Mono.error(new ProblemException(ProblemCode.POLICY_DENIED,
                    "only the assigned reviewer may move this request"));
              }
              ApprovalState from = ApprovalState.parse(current[0]);
              if (from == null || !from.canMoveTo(next)) {
                return Mono.error(new ProblemException(ProblemCode.ILLEGAL_TRANSITION,
                    "'" + stateColumn + "' cannot go from '" + (from == null ? "unknown" : from.wire()) + "' to '"
                        + next.wire() + "' (allowed: requested → reviewing → approved | rejected)"));
              }
              Mono<Object[]> updated = Flux.from(bound(c, change).execute())
                  .flatMap(result -> result.map((row, meta) -> returned.values(row)))
                  .next();
              if (roles.auditTable() == null) {
                return updated;
              }
              WriteStatement history = WriteStatement.insertPlain(WriteStatement.qualifiedName(roles.auditTable()),
                  List.of(WriteStatement.Assignment.value("approval_id", column(dataset, source.key()).type(), keyValue),
                      WriteStatement.Assignment.value("from_status", ColumnType.TEXT, from.wire()),
                      WriteStatement.Assignment.value("to_status", ColumnType.TEXT, next.wire()),
                      WriteStatement.Assignment.value("actor_id", ColumnType.TEXT, claims.subject())));
              return updated.flatMap(row -> Flux.from(bound(c, history).execute())
                  .flatMap(Result::getRowsUpdated).then(Mono.just(row)));
            }), plan)
        .flatMap(row -> ok(ctx, returned, plan, row));
  }

  // ---------------------------------------------------------------------------------------------------- delete

  public Mono<ServerResponse> delete(ServerRequest request, Dataset dataset, PostgresSource source, Decision decision,
      String id) {
    RequestContext ctx = RequestContext.of(request.exchange());
    if (dataset.template() == Template.FORM_SUBMISSION) {
      return Mono.error(methodNotAllowed(dataset, "submissions are append-only"));
    }
    if (dataset.template() == Template.APPROVAL_QUEUE) {
      return Mono.error(methodNotAllowed(dataset, "requests are never deleted; move them to 'rejected' instead"));
    }
    Object keyValue = ColumnValues.parse(column(dataset, source.key()).type(), id, source.key());
    String softDelete = dataset.roles().softDelete();
    String table = PostgresReader.qualified(source);
    WriteStatement statement = softDelete != null && dataset.column(softDelete) != null
        ? WriteStatement.softDelete(table, decision.rowFilter(), softDelete, column(dataset, softDelete).type(),
            source.key(), keyValue)
        : WriteStatement.delete(table, decision.rowFilter(), source.key(), keyValue);
    ctx.queryFingerprint(SelectStatement.fingerprint(decision.rowFilter().fingerprint() + "|" + statement.sql()));
    return inTransaction(source, timeout(dataset),
            c -> Flux.from(bound(c, statement).execute()).flatMap(Result::getRowsUpdated).reduce(0L, Long::sum),
            decision.columns())
        .flatMap(n -> n == 0 ? Mono.error(notFound(dataset)) : ServerResponse.noContent().build());
  }

  // --------------------------------------------------------------------------------------------------- helpers

  /** Why the client may not write {@code name}, or null when it may. Hidden columns answer like unknown ones. */
  private static @Nullable String notWritable(Dataset dataset, PostgresSource source, ColumnPlan plan, String name,
      boolean create) {
    PlannedColumn planned = plan.column(name);
    if (planned == null || dataset.column(name) == null) {
      return "unknown column '" + DataQueryParser.abbreviate(name) + "'";
    }
    // A mask limits what an app reads. Supplying a value when creating a row reveals nothing (a form's submitter
    // e-mail, read back masked), but overwriting a value the app cannot see is refused.
    if (planned.mask() != null && !create) {
      return "column '" + name + "' is masked for this app and cannot be changed";
    }
    if (name.equals(source.key())) {
      return create ? "column '" + name + "' is the key; the gateway assigns it" : "the key '" + name + "' cannot change";
    }
    TemplateColumns roles = dataset.roles();
    if (name.equals(roles.createdAt())) {
      return "column '" + name + "' is set by the gateway";
    }
    if (name.equals(roles.softDelete())) {
      return "column '" + name + "' is set by DELETE";
    }
    if (dataset.template() == Template.DIRECTORY && name.equals(roles.owner())) {
      return "column '" + name + "' is the owner, set from the token's owner_id; it cannot be written";
    }
    return null;
  }

  private static List<BodyViolation> merge(List<BodyViolation> columns, List<BodyViolation> contract) {
    if (contract.isEmpty()) {
      return columns;
    }
    // A key already refused by the column rules would be reported again by a contract's additionalProperties.
    Set<String> seen = new HashSet<>();
    for (BodyViolation v : columns) {
      seen.add(v.pointer());
    }
    List<BodyViolation> all = new ArrayList<>(columns);
    for (BodyViolation v : contract) {
      if (!seen.contains(v.pointer())) {
        all.add(v);
      }
    }
    return all;
  }

  private static void throwIfAny(List<BodyViolation> violations) {
    if (!violations.isEmpty()) {
      throw BodyViolation.problem(violations);
    }
  }

  private Duration timeout(Dataset dataset) {
    return dataset.statementTimeout() != null ? dataset.statementTimeout() : statementTimeout;
  }

  /**
   * Runs {@code work} in one transaction whose statements PostgreSQL cancels after {@code timeout}: committed when it
   * completes, rolled back on error or cancellation. {@code SET LOCAL} ends with the transaction, so the pooled
   * connection goes back with the server's own setting.
   */
  private <T> Mono<T> inTransaction(PostgresSource source, Duration timeout, Function<Connection, Mono<T>> work,
      ColumnPlan plan) {
    // an integer of milliseconds the gateway computed from validated config: no client text in the statement
    String limit = "SET LOCAL statement_timeout = " + Math.max(1, timeout.toMillis());
    return Mono.usingWhen(SourcePools.connect(pools.of(source)),
            c -> Mono.usingWhen(Mono.from(c.beginTransaction())
                    .then(Flux.from(c.createStatement(limit).execute()).flatMap(Result::getRowsUpdated).then())
                    .thenReturn(c),
                work,
                Connection::commitTransaction,
                (tx, error) -> tx.rollbackTransaction(),
                Connection::rollbackTransaction),
            Connection::close)
        .timeout(timeout.plus(CLIENT_GRACE))
        .onErrorMap(R2dbcException.class, e -> refusal(e, plan));
  }

  /** The written row's permitted columns; a row the filter no longer covers undoes the write. */
  private Mono<Object[]> writtenRow(Connection c, WriteStatement statement, Returned returned, ColumnPlan plan) {
    int flag = returned.fetched().size();
    return Flux.from(bound(c, statement).execute())
        .flatMap(result -> result.map((row, meta) -> {
          Object[] values = returned.values(row);
          if (!Boolean.TRUE.equals(row.get(flag, Boolean.class))) {
            throw new ProblemException(ProblemCode.POLICY_DENIED,
                "the row as written would be outside this app's row filter");
          }
          return values;
        }))
        .next();
  }

  private static Statement bound(Connection c, WriteStatement statement) {
    Statement st = c.createStatement(statement.sql());
    List<WriteStatement.Bind> binds = statement.binds();
    for (int i = 0; i < binds.size(); i++) {
      WriteStatement.Bind b = binds.get(i);
      if (b.value() == null) {
        st.bindNull(i, b.type());
      } else {
        st.bind(i, b.value());
      }
    }
    return st;
  }

  /**
   * A data error (class 22) or constraint violation (class 23) is the body's fault: {@code invalid_body}, naming a
   * column only when the app may see it. Anything else stays a datastore failure for the problem responder.
   */
  private static Throwable refusal(R2dbcException e, ColumnPlan plan) {
    String state = e.getSqlState();
    if ("57014".equals(state) || "55P03".equals(state)) {
      // query_canceled by our statement_timeout, lock_not_available: the write waited too long and was rolled back
      return new ProblemException(ProblemCode.UPSTREAM_TIMEOUT,
          "the write did not complete within the dataset's statement timeout and was not applied", null, List.of(),
          Map.of(HttpHeaders.RETRY_AFTER, "1"));
    }
    if (state == null || !(state.startsWith("22") || state.startsWith("23"))) {
      return e;
    }
    String column = null;
    if (e instanceof PostgresqlException pg) {
      column = pg.getErrorDetails().getColumnName().filter(n -> plan.column(n) != null).orElse(null);
    }
    String pointer = column == null ? "" : BodyViolation.pointerTo(column);
    String message = switch (state) {
      case "23502" -> column == null ? "a required column has no value" : "'" + column + "' is required";
      case "23505" -> "a row with these values already exists";
      case "23503" -> "a referenced row does not exist";
      case "23514" -> "a value breaks a rule of the table";
      case "22001" -> "a text value is too long for its column";
      case "22003" -> "a number is out of range for its column";
      default -> "a value does not fit its column";
    };
    return BodyViolation.problem(List.of(new BodyViolation(pointer, message)));
  }

  private Mono<ServerResponse> ok(RequestContext ctx, Returned returned, ColumnPlan plan, Object[] row) {
    byte[] encoded = returned.encoder(plan).encode(row);
    ctx.addRow(encoded.length);
    return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
        .headers(h -> h.addAll(returned.maskedHeader(plan))).bodyValue(encoded);
  }

  private static TokenClaims claims(RequestContext ctx) {
    TokenClaims claims = ctx.claims();
    if (claims == null) {
      throw new ProblemException(ProblemCode.INVALID_TOKEN, "no verified token");
    }
    return claims;
  }

  private static @Nullable String tokenText(TokenClaims claims, String attr) {
    Object v = claims.attrs().get(attr);
    return v instanceof String s && !s.isEmpty() ? s : null;
  }

  private static Object tokenAttr(TokenClaims claims, String attr, Column column) {
    Object v = claims.attrs().get(attr);
    if (v == null || v instanceof Map || v instanceof List) {
      throw new ProblemException(ProblemCode.POLICY_DENIED,
          "the token carries no " + attr + "; rows of this dataset are owned by it");
    }
    try {
      return ColumnValues.parse(column.type(), v.toString(), column.name());
    } catch (ProblemException e) {
      throw new ProblemException(ProblemCode.POLICY_DENIED, "the token's " + attr + " does not fit column "
          + column.name());
    }
  }

  private static Column column(Dataset dataset, String name) {
    Column c = dataset.column(name);
    if (c == null) {
      throw new IllegalStateException("dataset " + dataset.name() + " declares no column " + name);
    }
    return c;
  }

  private static ProblemException notFound(Dataset dataset) {
    return new ProblemException(ProblemCode.NOT_FOUND, "no row with this id in " + dataset.name());
  }

  private static ProblemException methodNotAllowed(Dataset dataset, String why) {
    return new ProblemException(ProblemCode.METHOD_NOT_ALLOWED,
        dataset.template().yamlName() + " dataset " + dataset.name() + ": " + why);
  }

  private static Returned returned(ColumnPlan plan, String key) {
    List<String> fetched = new ArrayList<>();
    for (PlannedColumn c : plan.columns()) {
      fetched.add(c.name());
    }
    int written = fetched.size();
    int keyIndex = fetched.indexOf(key);
    if (keyIndex < 0) {
      // A hidden key is still needed for Location, but never sent in the body.
      keyIndex = fetched.size();
      fetched.add(key);
    }
    return new Returned(List.copyOf(fetched), written, keyIndex);
  }

  /** What a write returns: the permitted columns (then the key, if hidden), encoded like a read. */
  private record Returned(List<String> fetched, int written, int keyIndex) {

    SelectStatement asSelect() {
      return new SelectStatement("", List.of(), fetched, written, "");
    }

    RowEncoder encoder(ColumnPlan plan) {
      return new RowEncoder(asSelect(), plan);
    }

    HttpHeaders maskedHeader(ColumnPlan plan) {
      return PostgresReader.maskedHeader(asSelect(), plan);
    }

    Object[] values(io.r2dbc.spi.Row row) {
      Object[] values = new Object[fetched.size()];
      for (int i = 0; i < values.length; i++) {
        Object v = row.get(i);
        values[i] = v instanceof io.r2dbc.postgresql.codec.Json j ? new RowEncoder.RawJson(j.asString()) : v;
      }
      return values;
    }
  }
}
