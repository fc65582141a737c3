"""REST endpoints of ingests: upload bill files, follow progress, read the outcome."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from billing.ingest.liveness import ingest_jobs_fail_stopped
from billing.ingest.reconcile import rejected_money
from billing.models import IngestIssue, IngestJob, IngestPeriodSum, TagKey
from billing.services.ingests import ingest_job_create
from billing.services.tags import tag_key_create, tag_key_update
from portal.core.apis import ScopedAPIMixin, ServiceViewSet
from portal.core.permissions import ADMIN_ONLY
from portal.core.serializers import ExactModelSerializer


class IngestPeriodSumSerializer(ExactModelSerializer):
    reconciled = serializers.BooleanField(read_only=True)

    class Meta:
        model = IngestPeriodSum
        exclude = ["id", "job"]


class IngestIssueSerializer(serializers.ModelSerializer[IngestIssue]):
    class Meta:
        model = IngestIssue
        fields = ["kind", "file", "row", "column", "value", "message"]


class IngestJobSerializer(serializers.ModelSerializer[IngestJob]):
    # None while the rows of a queued job are not counted yet.
    progress_percent = serializers.IntegerField(read_only=True, allow_null=True)
    files = serializers.SerializerMethodField()

    class Meta:
        model = IngestJob
        fields = [
            "id",
            "status",
            "created_at",
            "started_at",
            "finished_at",
            "files",
            "formats",
            "rows_total",
            "rows_read",
            "rows_stored",
            "rows_rejected",
            "progress_percent",
            "message",
            "notes",
            "issue_counts",
        ]

    def get_files(self, job: IngestJob) -> list[dict[str, Any]]:
        # Server paths are not the caller's business.
        return [{"name": f["name"], "size": f["size"], "sha256": f["sha256"]} for f in job.files]


class IngestJobDetailSerializer(IngestJobSerializer):
    # The ingest page's line on rejected money; None until the ingest has finished.
    rejected_summary = serializers.SerializerMethodField()
    period_sums = IngestPeriodSumSerializer(many=True, read_only=True)
    issues = IngestIssueSerializer(many=True, read_only=True)

    class Meta(IngestJobSerializer.Meta):
        fields = [*IngestJobSerializer.Meta.fields, "rejected_summary", "period_sums", "issues"]

    def get_rejected_summary(self, job: IngestJob) -> str | None:
        return rejected_money(job) if job.is_finished else None


class IngestJobApi(
    ScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """POST files (multipart, field `files`, one or more) to start an ingest."""

    model = IngestJob
    write_roles = ADMIN_ONLY
    parser_classes = [MultiPartParser, FormParser]

    def get_serializer_class(self) -> Any:
        return IngestJobDetailSerializer if self.action == "retrieve" else IngestJobSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ingest_jobs_fail_stopped()  # none is shown running whose process is gone
        return super().list(request, *args, **kwargs)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ingest_jobs_fail_stopped()
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "IngestUpload",
                {"files": serializers.ListField(child=serializers.FileField())},
            )
        },
        responses={202: IngestJobSerializer},
        summary="Upload bill files and queue their ingest",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        job = ingest_job_create(actor=request.user, uploads=request.FILES.getlist("files"))
        return Response(IngestJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class TagKeySerializer(serializers.ModelSerializer[TagKey]):
    class Meta:
        model = TagKey
        fields = ["id", "name", "aliases", "summarize"]


class TagKeyInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=128)
    aliases = serializers.ListField(child=serializers.CharField(max_length=128), required=False)
    summarize = serializers.BooleanField(required=False)


class TagKeyApi(ServiceViewSet):
    """Tag keys reported on, and the spellings read as them (applied at the next ingest)."""

    model = TagKey
    serializer_class = TagKeySerializer
    input_serializer_class = TagKeyInputSerializer
    create_service = tag_key_create
    update_service = tag_key_update
