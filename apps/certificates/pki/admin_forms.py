"""The forms behind the private CA's admin pages: typed fields in, one service call out. Each is a
ServiceForm, so a service's refusal is a form error (never a 500), and a typed private key or
passphrase is never shown back."""

from __future__ import annotations

from django import forms

from apps.certificates.pki.authorities import ca_external_create, ca_external_upload, ca_import
from apps.certificates.pki.models import CaKeyType, CertificateAuthority
from apps.certificates.pki.services import ca_hierarchy_create
from certmate.actors import Actor
from certmate.admin_services import ServiceForm

MAX_LINES = 200
MAX_PEM = 64 * 1024  # a certificate with a long chain, or an RSA 4096 key, stays far below this
CONSTRAINTS = [f"{side}_{kind}" for side in ("permitted", "excluded") for kind in ("dns", "ip", "email")]
CONSTRAINT_HELP = {
    "dns": "DNS names, one per line (a leading dot: subdomains only)",
    "ip": "IP networks in CIDR form, one per line (10.0.0.0/8)",
    "email": "e-mail domains or addresses, one per line",
}


def lines(text: str) -> list[str]:
    """A textarea's non-empty lines, trimmed (one value per line)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class LinesField(forms.CharField):
    """A textarea of values, one per line: cleaned to a list, bounded in lines and length."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def __init__(self, *, max_lines: int = MAX_LINES, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 20_000)
        super().__init__(**kwargs)
        self.max_lines = max_lines

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value) -> list[str]:
        values = lines(super().to_python(value))
        if len(values) > self.max_lines:
            raise forms.ValidationError(f"at most {self.max_lines} lines", code="invalid")
        return values


def pem_field(label: str, *, required: bool = True, help_text: str = "", secret: bool = False) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": 8, "cols": 70, "autocomplete": "off", "spellcheck": "false"})
    field = forms.CharField(label=label, required=required, max_length=MAX_PEM, help_text=help_text, widget=widget)
    field.secret = secret
    return field


class SecretsNotShownBack:
    """A form whose secret fields come back empty when it is shown again with its errors."""

    def _forget_secrets(self) -> None:
        if self.is_bound and self.errors:
            self.data = self.data.copy()
            for name, field in self.fields.items():
                if getattr(field, "secret", False) or isinstance(field.widget, forms.PasswordInput):
                    self.data[name] = ""

    def full_clean(self):
        super().full_clean()
        self._forget_secrets()


class AuthorityForm(SecretsNotShownBack, ServiceForm):
    """A form that makes or changes a CA through a service: the service checks the name (and says
    when it is taken), not the model form."""

    class Meta:
        model = CertificateAuthority
        fields: list[str] = []

    def validate_unique(self):
        pass

    def _get_validation_exclusions(self):
        # The service validates (and the instance is its to build): no model-field checks on an empty one.
        return {field.name for field in CertificateAuthority._meta.fields}


def _constraint(side: str, kind: str) -> LinesField:
    return LinesField(label=f"{side} {kind} names", max_lines=50, help_text=CONSTRAINT_HELP[kind])


class _Named(AuthorityForm):
    name = forms.CharField(max_length=80, help_text="letters, digits, '.', '_' or '-'")
    common_name = forms.CharField(max_length=64)
    organization = forms.CharField(max_length=64, required=False)
    key_type = forms.ChoiceField(choices=CaKeyType.choices, initial=CaKeyType.EC384)
    permitted_dns, excluded_dns = _constraint("permitted", "dns"), _constraint("excluded", "dns")
    permitted_ip, excluded_ip = _constraint("permitted", "ip"), _constraint("excluded", "ip")
    permitted_email, excluded_email = _constraint("permitted", "email"), _constraint("excluded", "email")

    def name_constraints(self) -> dict[str, list[str]]:
        return {name: self.cleaned_data[name] for name in CONSTRAINTS if self.cleaned_data.get(name)}

    def identity(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("name", "common_name", "organization", "key_type")}


class HierarchyForm(_Named):
    """Create a hierarchy: a root ("<name>-root") and the issuing intermediate "<name>" under it."""

    root_days = forms.IntegerField(min_value=1, max_value=30 * 365, initial=3650)
    intermediate_days = forms.IntegerField(min_value=1, max_value=30 * 365, initial=1825)

    def apply(self, actor: Actor) -> CertificateAuthority:
        _root, intermediate = ca_hierarchy_create(
            **self.identity(),
            root_days=self.cleaned_data["root_days"],
            intermediate_days=self.cleaned_data["intermediate_days"],
            name_constraints=self.name_constraints(),
            actor=actor,
        )
        return intermediate


class ExternalForm(_Named):
    """An intermediate signed by the tenant's own root: certmate makes the key and a CSR to take there."""

    def apply(self, actor: Actor) -> CertificateAuthority:

        return ca_external_create(**self.identity(), name_constraints=self.name_constraints(), actor=actor)


class ImportForm(AuthorityForm):
    """An existing CA brought in: its certificate, its key (a passphrase if the key has one), its chain."""

    name = forms.CharField(max_length=80, help_text="letters, digits, '.', '_' or '-'")
    certificate_pem = pem_field("certificate (PEM)")
    private_key_pem = pem_field("private key (PEM)", help_text="stored encrypted; it is never shown again", secret=True)
    passphrase = forms.CharField(required=False, max_length=1024, widget=forms.PasswordInput)
    chain_pem = pem_field("chain (PEM)", required=False, help_text="the issuers above it, nearest first")

    def apply(self, actor: Actor) -> CertificateAuthority:

        data = self.cleaned_data
        return ca_import(
            name=data["name"],
            certificate_pem=data["certificate_pem"],
            private_key_pem=data["private_key_pem"],
            passphrase=data["passphrase"] or None,
            chain_pem=data["chain_pem"],
            actor=actor,
        )


class UploadForm(AuthorityForm):
    """The certificate the outside root signed for a pending intermediate (it must match its key)."""

    certificate_pem = pem_field("signed certificate (PEM)")
    chain_pem = pem_field("chain (PEM)", required=False, help_text="the issuers above it, nearest first")

    def apply(self, actor: Actor) -> CertificateAuthority:

        return ca_external_upload(
            authority=self.instance,
            certificate_pem=self.cleaned_data["certificate_pem"],
            chain_pem=self.cleaned_data["chain_pem"],
            actor=actor,
        )
