"""Load one table of the tutorial data warehouse."""

from prefect import flow, get_run_logger, task


@task
def load_table_task(table: str) -> dict:
    """One unit of work of the flow: replace the body with the real work."""
    return {"table": table}


@flow(name="dw_tutorial__load_table_flow")
def load_table_flow(table: str = "orders") -> dict:
    """Load one table of the tutorial data warehouse."""
    logger = get_run_logger()
    result = load_table_task(table=table)
    logger.info("dw_tutorial__load_table_flow finished: %s", result)
    return result


if __name__ == "__main__":
    load_table_flow()
