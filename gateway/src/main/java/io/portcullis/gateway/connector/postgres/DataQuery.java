package io.portcullis.gateway.connector.postgres;

import io.portcullis.policy.PlannedColumn;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A parsed, validated read: which permitted columns to return, the client's filters, the order (always ending in
 * the key, so pages are stable), the page size, and where the previous page ended.
 */
record DataQuery(List<PlannedColumn> select, List<Filter> filters, List<Order> order, int limit,
    @Nullable List<Object> after) {

  /** {@code column op value}; {@code value} is typed for the column (a {@code Object[]} for IN, null for IS NULL). */
  record Filter(String column, FilterOperator operator, boolean negated, @Nullable Object value) {
  }

  record Order(String column, io.portcullis.policy.model.ColumnType type, boolean descending) {
  }
}
