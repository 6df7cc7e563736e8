from tests.importing.conftest import run_import


def test_smoke(tenant_a):
    report = run_import(tenant_a, users_domain="alpha.test")
    print(report.as_table())
    assert 0
