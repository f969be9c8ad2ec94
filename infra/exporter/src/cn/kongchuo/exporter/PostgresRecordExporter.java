/*
 * Zeebe 8.6 exporter that appends the engine's event stream to PostgreSQL.
 *
 * Camunda 8.6 without Elasticsearch has no query API, so the Node app reads user tasks,
 * process/element instances, incidents and variables from the table written here.
 *
 * BUILD: infra/camunda/exporter.ts compiles this file at start with the chosen JDK 21+
 * (javac -nowarn --release 21 -cp '<distribution>/lib/*'; jar cf) and caches the jar by source hash.
 *
 * The jar must contain ONLY classes of this package. Zeebe loads exporter jars child-first
 * (io.camunda.zeebe.util.jar.ExternalJarClassLoader) and falls back to the broker classpath,
 * so the exporter API, protocol, slf4j and the PostgreSQL driver (lib/postgresql-42.7.4.jar)
 * all come from the broker. Bundling copies of them would create duplicate classes.
 *
 * CONFIGURE: infra/camunda/engine.ts writes zeebe.broker.exporters.postgres with className,
 * jarPath and args url (JDBC, required), username, password; optional args batchSize (200) and
 * flushIntervalMs (250). Argument names match case- and separator-insensitively, so the
 * ZEEBE_BROKER_EXPORTERS_<ID>_ARGS_* environment form works too.
 *
 * Table: zeebe_record(partition_id, position, record_key, ts, value_type, intent, value jsonb),
 * one row per exported EVENT, primary key (partition_id, position). "value" is exactly the
 * engine's JSON of the record value (only a raw NUL in a string, which jsonb cannot store, is
 * replaced by U+FFFD). The latest state of an entity is its row with the highest
 * position for (value_type, record_key).
 */
package cn.kongchuo.exporter;

import io.camunda.zeebe.exporter.api.Exporter;
import io.camunda.zeebe.exporter.api.context.Context;
import io.camunda.zeebe.exporter.api.context.Controller;
import io.camunda.zeebe.exporter.api.context.ScheduledTask;
import io.camunda.zeebe.protocol.record.Record;
import io.camunda.zeebe.protocol.record.RecordType;
import io.camunda.zeebe.protocol.record.ValueType;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;

public final class PostgresRecordExporter implements Exporter {

  private static final Set<ValueType> EXPORTED_VALUE_TYPES =
      EnumSet.of(
          ValueType.PROCESS,
          ValueType.PROCESS_INSTANCE,
          ValueType.USER_TASK,
          ValueType.INCIDENT,
          ValueType.VARIABLE,
          ValueType.TIMER,
          ValueType.MESSAGE_SUBSCRIPTION,
          ValueType.PROCESS_MESSAGE_SUBSCRIPTION,
          ValueType.JOB);

  private static final String[] DDL = {
    "CREATE TABLE IF NOT EXISTS zeebe_record ("
        + " partition_id int NOT NULL, position bigint NOT NULL, record_key bigint NOT NULL,"
        + " ts timestamptz NOT NULL, value_type text NOT NULL, intent text NOT NULL,"
        + " value jsonb NOT NULL, PRIMARY KEY (partition_id, position))",
    // "Latest state of each user task / incident / ...": DISTINCT ON (record_key) ... ORDER BY
    // record_key, position DESC filtered by value_type is answered from this index alone.
    "CREATE INDEX IF NOT EXISTS zeebe_record_type_key_idx"
        + " ON zeebe_record (value_type, record_key, position)",
    // "Everything of one process instance", in log order. Compare as text:
    // WHERE value->>'processInstanceKey' = '2251799813685251'.
    "CREATE INDEX IF NOT EXISTS zeebe_record_pi_idx"
        + " ON zeebe_record ((value->>'processInstanceKey'), position)"
  };

  private static final String INSERT =
      "INSERT INTO zeebe_record (partition_id, position, record_key, ts, value_type, intent, value)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?::jsonb) ON CONFLICT DO NOTHING";

  // Every partition runs its own exporter instance; they may all try to create the table at the
  // same moment, and concurrent CREATE ... IF NOT EXISTS can still fail on the catalog. An
  // advisory lock serialises them. The number is arbitrary but fixed.
  private static final long DDL_LOCK_ID = 0x7a6565626550474cL;

  // jsonb rejects the escape \u0000 that Zeebe emits for NUL characters in strings; one such
  // record would otherwise block the exporter forever. Only an unescaped backslash counts.
  private static final Pattern NUL_ESCAPE = Pattern.compile("(?<!\\\\)((?:\\\\\\\\)*)\\\\u0000");

  private static final long MAX_RETRY_DELAY_MS = 10_000;

  private Logger log;
  private String url;
  private String safeUrl; // for logs: a JDBC URL's parameters may carry a password
  private Properties connectionProperties;
  private int batchSize;
  private long lastFlushNanos = System.nanoTime();
  private Duration flushInterval;

  private Controller controller;
  private ScheduledTask flushTask;
  private Connection connection;
  private final List<Row> buffer = new ArrayList<>();
  private long lastBufferedPosition = -1;
  private long retryDelayMs;
  private long nextAttemptAtMs;

  /** An immutable copy: Zeebe reuses the Record object after export() returns. */
  private record Row(
      int partitionId,
      long position,
      long key,
      long timestamp,
      String valueType,
      String intent,
      String json) {}

  @Override
  public void configure(final Context context) {
    // Zeebe also calls configure() on a throw-away instance at startup just to validate, so
    // nothing here may open resources.
    log = context.getLogger();
    final Map<String, Object> args = context.getConfiguration().getArguments();

    // Environment variables reach us lower-cased (ARGS_BATCHSIZE -> "batchsize") while YAML keeps
    // camelCase, so look keys up case- and separator-insensitively.
    url = arg(args, "url", null);
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException(
          "PostgresRecordExporter needs the argument 'url' (e.g. jdbc:postgresql://host:5432/db)");
    }
    safeUrl = url.replaceFirst("\\?.*", "");
    batchSize = Math.max(1, Integer.parseInt(arg(args, "batchSize", "200")));
    flushInterval = Duration.ofMillis(Math.max(10, Long.parseLong(arg(args, "flushIntervalMs", "250"))));

    connectionProperties = new Properties();
    putIfSet(connectionProperties, "user", arg(args, "username", null));
    putIfSet(connectionProperties, "password", arg(args, "password", null));
    // Defaults only; parameters in the JDBC URL win. All JDBC calls run on the exporter's actor
    // thread, so an unreachable database must fail fast instead of hanging it.
    connectionProperties.setProperty("connectTimeout", "5");
    connectionProperties.setProperty("socketTimeout", "60");
    connectionProperties.setProperty("tcpKeepAlive", "true");
    connectionProperties.setProperty("reWriteBatchedInserts", "true");
    connectionProperties.setProperty(
        "ApplicationName", "zeebe-pg-exporter-p" + context.getPartitionId());

    context.setFilter(
        new Context.RecordFilter() {
          @Override
          public boolean acceptType(final RecordType recordType) {
            // Only events describe state that actually changed; commands and rejections don't.
            return recordType == RecordType.EVENT;
          }

          @Override
          public boolean acceptValue(final ValueType valueType) {
            return EXPORTED_VALUE_TYPES.contains(valueType);
          }
        });
  }

  @Override
  public void open(final Controller controller) {
    this.controller = controller;
    // Connecting here is only an early attempt. open() must not fail because of the database,
    // otherwise the whole partition's exporting fails; flush() reconnects on demand.
    tryFlush(true);
    scheduleFlush();
    log.info("PostgreSQL exporter opened (batchSize={}, flushInterval={})", batchSize, flushInterval);
  }

  @Override
  public void export(final Record<?> record) {
    // Zeebe retries a record whose export() threw, so the same position can come twice;
    // positions only grow, so anything not newer than the buffer's tail is a repeat.
    if (record.getPosition() <= lastBufferedPosition) {
      return;
    }
    if (buffer.size() >= batchSize && !tryFlush(false)) {
      // Buffer full and database down: refuse the record instead of growing without bound.
      // Zeebe backs off and calls export() with this record again.
      throw new IllegalStateException(
          "PostgreSQL exporter buffer is full (" + buffer.size()
              + " records) and the database is not reachable; will retry");
    }

    buffer.add(
        new Row(
            record.getPartitionId(),
            record.getPosition(),
            record.getKey(),
            record.getTimestamp(),
            record.getValueType().name(),
            record.getIntent().name(),
            jsonbSafe(record.getValue().toJson())));
    lastBufferedPosition = record.getPosition();

    // The scheduled flush runs on the engine's clock; when tests move that clock backwards the
    // timer waits for the old time, so a busy stream also flushes on elapsed monotonic time.
    final boolean intervalElapsed = System.nanoTime() - lastFlushNanos >= flushInterval.toNanos();
    if (buffer.size() >= batchSize || intervalElapsed) {
      tryFlush(false); // a failure keeps the rows; the next call or the timer retries
    }
  }

  @Override
  public void close() {
    if (flushTask != null) {
      flushTask.cancel();
    }
    // Whatever isn't committed now wasn't acknowledged either, so Zeebe re-exports it next start.
    if (controller != null) {
      tryFlush(true);
    }
    closeConnection();
  }

  private void scheduleFlush() {
    flushTask =
        controller.scheduleCancellableTask(
            flushInterval,
            () -> {
              tryFlush(false);
              scheduleFlush();
            });
  }

  /**
   * Writes the whole buffer in one transaction and acknowledges its last position only after the
   * commit, so a crash at any point loses nothing. Returns true if the buffer is now empty.
   */
  private boolean tryFlush(final boolean ignoreBackoff) {
    if (buffer.isEmpty() && connection != null) {
      return true;
    }
    final long now = System.currentTimeMillis();
    if (!ignoreBackoff && now < nextAttemptAtMs) {
      return false;
    }
    try {
      if (connection == null) {
        connection = connect();
      }
      if (!buffer.isEmpty()) {
        try (PreparedStatement insert = connection.prepareStatement(INSERT)) {
          for (final Row row : buffer) {
            insert.setInt(1, row.partitionId());
            insert.setLong(2, row.position());
            insert.setLong(3, row.key());
            insert.setObject(
                4, OffsetDateTime.ofInstant(Instant.ofEpochMilli(row.timestamp()), ZoneOffset.UTC));
            insert.setString(5, row.valueType());
            insert.setString(6, row.intent());
            insert.setString(7, row.json());
            insert.addBatch();
          }
          insert.executeBatch();
        }
        connection.commit();
        final long lastPosition = buffer.get(buffer.size() - 1).position();
        buffer.clear();
        lastFlushNanos = System.nanoTime();
        controller.updateLastExportedRecordPosition(lastPosition);
      }
      if (retryDelayMs > 0) {
        log.info("PostgreSQL exporter recovered; writing again");
      }
      retryDelayMs = 0;
      nextAttemptAtMs = 0;
      return true;
    } catch (final SQLException | RuntimeException e) {
      // Keep the buffer and don't acknowledge: the rows are retried, and ON CONFLICT DO NOTHING
      // makes a partially-known outcome (e.g. commit sent, connection lost) harmless.
      retryDelayMs =
          Math.min(MAX_RETRY_DELAY_MS, Math.max(flushInterval.toMillis(), retryDelayMs * 2));
      nextAttemptAtMs = now + retryDelayMs;
      log.warn(
          "PostgreSQL exporter could not write {} buffered records to {} ({}); keeping them and"
              + " retrying in {} ms",
          buffer.size(), safeUrl, describe(e), retryDelayMs);
      closeConnection(); // a fresh connection on the next attempt
      return false;
    }
  }

  private Connection connect() throws SQLException {
    // Instantiate the driver directly instead of going through DriverManager: it is on the
    // broker classpath, and this avoids depending on DriverManager's caller-classloader checks
    // and service registration from inside the exporter's own class loader.
    final Connection c = new org.postgresql.Driver().connect(url, connectionProperties);
    if (c == null) {
      throw new SQLException("URL not accepted by the PostgreSQL driver: " + url);
    }
    try {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.execute("SELECT pg_advisory_xact_lock(" + DDL_LOCK_ID + ")");
        for (final String ddl : DDL) {
          st.execute(ddl);
        }
      }
      c.commit();
      return c;
    } catch (final SQLException | RuntimeException e) {
      try {
        c.close();
      } catch (final SQLException ignored) {
        // already failing
      }
      throw e;
    }
  }

  private void closeConnection() {
    if (connection != null) {
      try {
        connection.close();
      } catch (final SQLException ignored) {
        // the connection is being discarded anyway
      }
      connection = null;
    }
  }

  private static String jsonbSafe(final String json) {
    return json.contains("\\u0000") ? NUL_ESCAPE.matcher(json).replaceAll("$1\\\\ufffd") : json;
  }

  private static String describe(final Throwable e) {
    // A BatchUpdateException's own message repeats the whole statement including the record
    // JSON (variable values!); the real cause is in getNextException().
    if (e instanceof BatchUpdateException b && b.getNextException() != null) {
      return b.getNextException().getMessage();
    }
    return String.valueOf(e.getMessage());
  }

  private static String arg(final Map<String, Object> args, final String name, final String dflt) {
    if (args != null) {
      final String wanted = normalize(name);
      for (final Map.Entry<String, Object> e : args.entrySet()) {
        if (normalize(e.getKey()).equals(wanted) && e.getValue() != null) {
          return String.valueOf(e.getValue()).trim();
        }
      }
    }
    return dflt;
  }

  private static String normalize(final String key) {
    return key.replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
  }

  private static void putIfSet(final Properties props, final String key, final String value) {
    if (value != null && !value.isEmpty()) {
      props.setProperty(key, value);
    }
  }
}
