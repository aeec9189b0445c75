package io.portcullis.gateway.pipeline;

/**
 * The datastore planner's estimate of a read before it runs (the connector's cost guard, DESIGN.md §1 stage 4).
 *
 * @param plannerCost total cost of the plan, in PostgreSQL cost units (seq_page_cost = 1)
 * @param rows        rows the plan expects to return
 * @param rowWidth    average width of a returned row, in bytes
 */
public record QueryEstimate(double plannerCost, double rows, int rowWidth) {

  /** Bytes the read is expected to return. */
  public double bytes() {
    return rows * rowWidth;
  }
}
