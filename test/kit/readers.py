"""Reader helpers that lakestream's interop tests run inside test/kit/python_worker.py.

Each returns plain rows (lists of dicts) so a TypeScript test can compare them with what it wrote.
"""
import os


def delta_rs_rows(path, version=None, columns=None):
    from deltalake import DeltaTable

    table = DeltaTable(path, version=version) if version is not None else DeltaTable(path)
    return table.to_pyarrow_table(columns=columns).to_pylist()


def delta_rs_version(path):
    from deltalake import DeltaTable

    return DeltaTable(path).version()


_spark = None


def spark():
    """One local Spark session with Delta and Iceberg per worker; jars come from the ivy cache
    that test/env/python-readers.sh filled from Maven Central."""
    global _spark
    if _spark is None:
        from pyspark.sql import SparkSession

        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (
            SparkSession.builder.master("local[2]")
            .appName("lakestream-interop")
            .config("spark.jars.packages", os.environ["LAKESTREAM_SPARK_PACKAGES"])
            .config("spark.jars.ivy", os.environ["LAKESTREAM_IVY_DIR"])
            .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
            .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.databricks.delta.snapshotPartitions", "2")
            .config("spark.sql.session.timeZone", "UTC")
        )
        _spark = builder.getOrCreate()
        _spark.sparkContext.setLogLevel("ERROR")
    return _spark


def spark_delta_rows(path, version=None, where=None):
    reader = spark().read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    frame = reader.load(path)
    if where:
        frame = frame.where(where)
    return [row.asDict(recursive=True) for row in frame.collect()]
