package io.portcullis.audit.lineage;

import io.openlineage.client.OpenLineage;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One OpenLineage {@code COMPLETE} run event per app and minute: the app is the job, the datasets it read are the
 * inputs and those it wrote the outputs, each with a {@code portcullis_access} facet holding the minute's counts; the
 * run carries the standard {@code nominalTime} facet (the minute), the job a {@code jobType} facet and, when the app
 * read any {@code raw.*} dataset, a {@code portcullis_rawDataAccess} facet naming them.
 */
final class LineageEvents {

  static final String RAW_PREFIX = "raw.";
  static final String ACCESS_FACET = "portcullis_access";
  static final String RAW_FACET = "portcullis_rawDataAccess";
  private static final String FACETS_SCHEMA = "urn:portcullis:lineage:facets:1-0-0";

  private LineageEvents() {}

  record Counts(long requests, long rows, long bytes) {
    Counts plus(Counts o) {
      return new Counts(requests + o.requests, rows + o.rows, bytes + o.bytes);
    }
  }

  static OpenLineage.RunEvent runEvent(OpenLineage ol, URI producer, String jobNamespace, String datasetNamespace, String app,
      long minute, Map<String, Counts> reads, Map<String, Counts> writes) {
    ZonedDateTime start = Instant.ofEpochSecond(minute * 60).atZone(ZoneOffset.UTC);
    ZonedDateTime end = start.plusMinutes(1);
    List<OpenLineage.InputDataset> inputs = new ArrayList<>();
    List<String> raw = new ArrayList<>();
    reads.forEach((dataset, c) -> {
      inputs.add(ol.newInputDatasetBuilder().namespace(datasetNamespace).name(dataset)
          .inputFacets(ol.newInputDatasetInputFacetsBuilder().put(ACCESS_FACET, new AccessInputFacet(producer, c)).build())
          .build());
      if (dataset.startsWith(RAW_PREFIX)) {
        raw.add(dataset);
      }
    });
    List<OpenLineage.OutputDataset> outputs = new ArrayList<>();
    writes.forEach((dataset, c) -> outputs.add(ol.newOutputDatasetBuilder().namespace(datasetNamespace).name(dataset)
        .outputFacets(ol.newOutputDatasetOutputFacetsBuilder().put(ACCESS_FACET, new AccessOutputFacet(producer, c)).build())
        .build()));
    OpenLineage.JobFacetsBuilder jobFacets = ol.newJobFacetsBuilder()
        .jobType(ol.newJobTypeJobFacet("STREAMING", "PORTCULLIS", "APP"));
    if (!raw.isEmpty()) {
      jobFacets.put(RAW_FACET, new RawAccessJobFacet(producer, raw));
    }
    return ol.newRunEventBuilder()
        .eventType(OpenLineage.RunEvent.EventType.COMPLETE)
        .eventTime(end)
        .run(ol.newRun(runId(jobNamespace, app, minute),
            ol.newRunFacetsBuilder().nominalTime(ol.newNominalTimeRunFacet(start, end)).build()))
        .job(ol.newJob(jobNamespace, app, jobFacets.build()))
        .inputs(inputs)
        .outputs(outputs)
        .build();
  }

  /** Stable per job and minute, so a consumer can tell a re-sent minute from a new one. */
  static UUID runId(String jobNamespace, String app, long minute) {
    return UUID.nameUUIDFromBytes((jobNamespace + "\n" + app + "\n" + minute).getBytes(StandardCharsets.UTF_8));
  }

  static URI schema(String definition) {
    return URI.create(FACETS_SCHEMA + "#/$defs/" + definition);
  }

  /** {@code portcullis_access} on an input: the minute's allowed reads. */
  static final class AccessInputFacet extends OpenLineage.DefaultInputDatasetFacet {
    AccessInputFacet(URI producer, Counts c) {
      super(producer);
      getAdditionalProperties().put("requests", c.requests());
      getAdditionalProperties().put("rows", c.rows());
      getAdditionalProperties().put("bytes", c.bytes());
    }

    @Override
    public URI get_schemaURL() {
      return schema("PortcullisAccessInputDatasetFacet");
    }
  }

  /** {@code portcullis_access} on an output: the minute's allowed writes (create, update, delete). */
  static final class AccessOutputFacet extends OpenLineage.DefaultOutputDatasetFacet {
    AccessOutputFacet(URI producer, Counts c) {
      super(producer);
      getAdditionalProperties().put("requests", c.requests());
      getAdditionalProperties().put("rows", c.rows());
      getAdditionalProperties().put("bytes", c.bytes());
    }

    @Override
    public URI get_schemaURL() {
      return schema("PortcullisAccessOutputDatasetFacet");
    }
  }

  /** {@code portcullis_rawDataAccess}: this app read raw (unvetted) datasets in the minute. */
  static final class RawAccessJobFacet extends OpenLineage.DefaultJobFacet {
    RawAccessJobFacet(URI producer, List<String> datasets) {
      super(producer, null);
      getAdditionalProperties().put("readsRaw", true);
      getAdditionalProperties().put("datasets", List.copyOf(datasets));
    }

    @Override
    public URI get_schemaURL() {
      return schema("PortcullisRawDataAccessJobFacet");
    }
  }
}
